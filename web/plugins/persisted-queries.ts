// Every GraphQL document the UI sends lives in src/queries/*.graphql. Fragments that several
// documents share live once in src/queries/fragments/NAME.graphql (one fragment a file, named
// as the file): a document is its file's text followed by each fragment it spreads, directly or
// through another fragment, in order of name, one blank line apart. At build time each document
// is hashed (SHA-256 of that text) into gateway/static/persisted-queries.json, which the gateway
// loads; the UI imports `virtual:persisted-queries` to send the hash by name.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Plugin } from "vite";

const VIRTUAL = "virtual:persisted-queries";
const RESOLVED = "\0" + VIRTUAL;

export interface PersistedQuery {
  hash: string;
  text: string;
}

const SPREAD = /\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)/g;

function graphqlFiles(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".graphql"))
    .sort();
  return Object.fromEntries(files.map((name) => [basename(name, ".graphql"), readFileSync(join(dir, name), "utf8")]));
}

/** The document's text, then every fragment it needs (spread directly or by a fragment). */
export function withFragments(text: string, fragments: Record<string, string>): string {
  const needed = new Set<string>();
  const pending = [text];
  while (pending.length) {
    for (const match of (pending.pop() ?? "").matchAll(SPREAD)) {
      const name = match[1] ?? "";
      const fragment = fragments[name];
      if (fragment !== undefined && !needed.has(name)) {
        needed.add(name);
        pending.push(fragment);
      }
    }
  }
  return [text, ...[...needed].sort().map((name) => fragments[name])].join("\n");
}

export function readQueries(dir: string): Record<string, PersistedQuery> {
  const fragments = graphqlFiles(join(dir, "fragments"));
  return Object.fromEntries(
    Object.entries(graphqlFiles(dir)).map(([name, own]) => {
      const text = withFragments(own, fragments);
      const hash = createHash("sha256").update(text, "utf8").digest("hex");
      return [name, { hash, text }];
    }),
  );
}

export function persistedQueries(dir: string): Plugin {
  return {
    name: "crossforce-persisted-queries",
    resolveId(id) {
      return id === VIRTUAL ? RESOLVED : null;
    },
    load(id) {
      if (id !== RESOLVED) return null;
      const queries = readQueries(dir);
      for (const name of Object.keys(queries)) this.addWatchFile(join(dir, `${name}.graphql`));
      for (const name of Object.keys(graphqlFiles(join(dir, "fragments")))) {
        this.addWatchFile(join(dir, "fragments", `${name}.graphql`));
      }
      return `export default ${JSON.stringify(queries)};`;
    },
    generateBundle() {
      const manifest = Object.fromEntries(
        Object.values(readQueries(dir)).map((q) => [q.hash, q.text]),
      );
      this.emitFile({
        type: "asset",
        fileName: "persisted-queries.json",
        source: JSON.stringify(manifest, null, 2) + "\n",
      });
    },
  };
}
