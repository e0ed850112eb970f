// Every GraphQL document the UI sends lives in src/queries/*.graphql. At build time each is
// hashed (SHA-256 of the file's exact text) into gateway/static/persisted-queries.json, which
// the gateway loads; the UI imports `virtual:persisted-queries` to send the hash by name.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Plugin } from "vite";

const VIRTUAL = "virtual:persisted-queries";
const RESOLVED = "\0" + VIRTUAL;

export interface PersistedQuery {
  hash: string;
  text: string;
}

export function readQueries(dir: string): Record<string, PersistedQuery> {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".graphql"))
    .sort();
  return Object.fromEntries(
    files.map((name) => {
      const text = readFileSync(join(dir, name), "utf8");
      const hash = createHash("sha256").update(text, "utf8").digest("hex");
      return [basename(name, ".graphql"), { hash, text }];
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
