/// <reference types="vite/client" />

declare module "virtual:persisted-queries" {
  const queries: Record<string, { hash: string; text: string }>;
  export default queries;
}
