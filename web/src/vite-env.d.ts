/// <reference types="vite/client" />

declare module "virtual:persisted-queries" {
  const queries: Record<string, { hash: string; text: string }>;
  export default queries;
}

declare module "cytoscape-fcose" {
  import type { Ext } from "cytoscape";
  const fcose: Ext;
  export default fcose;
}
