// The UI's only way to the hub: persisted GraphQL operations, by the SHA-256 of their text,
// with the signed-in person's token.
import queries from "virtual:persisted-queries";
import { current } from "./auth";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function run<T>(name: string, variables: Record<string, unknown> = {}): Promise<T> {
  const query = queries[name];
  if (!query) throw new ApiError(`no persisted query named ${name}`, "CLIENT");
  const session = current();
  if (!session) throw new ApiError("signed out: sign in again", "UNAUTHENTICATED");
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {
      Authorization: `Bearer ${session.token}`,
      Accept: "application/graphql-response+json, application/json;q=0.9",
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      operationName: name,
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: query.hash } },
    }),
  });
  const payload = (await response.json().catch(() => ({}))) as GraphQLResponse<T>;
  const error = payload.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code ?? String(response.status));
  if (!response.ok || payload.data === undefined || payload.data === null) {
    throw new ApiError(`the hub answered ${response.status}`, String(response.status));
  }
  return payload.data;
}
