"""Reading the records of a large XML file one at a time, safely.

The file is fed to the parser in chunks; each record element (e.g. one CyberTipline report)
is built on its own and handed out once it closes, with the line it started on, and then
dropped, so memory holds one record however long the file. The parser is defusedxml's: a
document type declaration, entities and external references are refused, so neither an
entity bomb nor an external entity can be smuggled in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml.common import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser

from federation.referrals.errors import MalformedFile

CHUNK = 64 * 1024


class MalformedXML(MalformedFile):
    """The file is not well-formed XML (or not safe XML): nothing of it can be trusted."""


@dataclass(frozen=True)
class XMLRecord:
    line: int  # where the record's start tag is
    element: Element


def local_name(tag: str) -> str:
    """A tag without its namespace: `{urn:x}report` and `report` are the same element."""
    return tag.rsplit("}", 1)[-1]


class _RecordTarget:
    """Parser target that builds only the subtrees of record elements."""

    def __init__(self, record_tag: str) -> None:
        self._record_tag = record_tag
        self.current_line: Callable[[], int] = lambda: 0
        self._depth = 0
        self._builder: TreeBuilder | None = None
        self._record_depth = 0
        self._line = 0
        self.done: list[XMLRecord] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        name = local_name(tag)
        if self._builder is None and name == self._record_tag:
            self._builder = TreeBuilder()
            self._record_depth = self._depth
            self._line = self.current_line()
        if self._builder is not None:
            self._builder.start(name, {local_name(k): v for k, v in attrs.items()})

    def end(self, tag: str) -> None:
        if self._builder is not None:
            element = self._builder.end(local_name(tag))
            if self._depth == self._record_depth:
                self.done.append(XMLRecord(self._line, element))
                self._builder = None
        self._depth -= 1

    def data(self, data: str) -> None:
        if self._builder is not None:
            self._builder.data(data)

    def close(self) -> None:
        return None


def xml_records(chunks: Iterable[bytes], record_tag: str) -> Iterator[XMLRecord]:
    """Each `record_tag` element of the document, wherever it sits, in document order.

    Raises `MalformedXML` with the line and the reason at the first place the document stops
    being well-formed (or uses a DTD or an entity); the records before it were yielded.
    """
    target = _RecordTarget(record_tag)
    parser = DefusedXMLParser(
        target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    target.current_line = lambda: int(parser.parser.CurrentLineNumber)
    fed = False
    try:
        for chunk in chunks:
            if not chunk:
                continue
            fed = True
            parser.feed(chunk)
            yield from target.done
            target.done.clear()
        if not fed:
            raise MalformedXML(1, "the file is empty")
        parser.close()
    except ParseError as error:
        line = error.position[0] if error.position else parser.parser.CurrentLineNumber
        reason = str(error).split(": line", 1)[0]
        raise MalformedXML(line, f"not well-formed XML ({reason})") from None
    except DTDForbidden:
        raise MalformedXML(
            parser.parser.CurrentLineNumber, "a document type declaration is not accepted"
        ) from None
    except EntitiesForbidden:
        raise MalformedXML(
            parser.parser.CurrentLineNumber, "entity declarations are not accepted"
        ) from None
    except DefusedXmlException:
        raise MalformedXML(
            parser.parser.CurrentLineNumber, "external references are not accepted"
        ) from None
    yield from target.done


def file_chunks(path: str, size: int = CHUNK) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk
