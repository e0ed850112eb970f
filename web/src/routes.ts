// Views are addressed by URL fragment, so the hub serves one page and every view has a link.

export function caseHash(force: string, caseRef: string): string {
  return `#/case/${encodeURIComponent(force)}/${encodeURIComponent(caseRef)}`;
}

export function graphHash(force: string, caseRef: string): string {
  return `#/graph/${encodeURIComponent(force)}/${encodeURIComponent(caseRef)}`;
}
