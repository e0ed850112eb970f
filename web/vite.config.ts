import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { persistedQueries } from "./plugins/persisted-queries.ts";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: "/",
  plugins: [persistedQueries(here("./src/queries"))],
  build: {
    outDir: here("../gateway/static"),
    emptyOutDir: true,
    // The page's Content-Security-Policy allows nothing inline: no data: URIs, no injected
    // polyfill script.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
