// Who is signed in. The access token lives in this module's memory only: never in
// localStorage, sessionStorage or a cookie, so a reload signs the person out.
//
// Development (no OIDC issuer configured): a person picks a client of the built-in identity
// provider and enters its secret; the UI asks `/oauth/token` with the client credentials grant.
// Production: the authorisation code flow with PKCE against the configured issuer, through
// oauth4webapi. Only the PKCE verifier and state survive the redirect (in sessionStorage, removed
// on return): they are not credentials without the code, which comes back once.
import * as oauth from "oauth4webapi";

export interface Session {
  token: string;
  clientId: string;
  scopes: Set<string>;
  force: string | null;
  expiresAt: number;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  scope: string;
}

let session: Session | null = null;
const PENDING = "crossforce.pkce";

export function current(): Session | null {
  if (session && Date.now() >= session.expiresAt) session = null;
  return session;
}

export function signOut(): void {
  session = null;
}

/** The token's claims, read for display and navigation only: the hub checks the signature. */
function claims(token: string): Record<string, unknown> {
  const part = token.split(".")[1] ?? "";
  const json = atob(part.replaceAll("-", "+").replaceAll("_", "/"));
  return JSON.parse(json) as Record<string, unknown>;
}

function start(token: string, expiresIn: number | undefined): Session {
  const c = claims(token);
  const scope = typeof c.scope === "string" ? c.scope : "";
  const exp = typeof c.exp === "number" ? c.exp * 1000 : Date.now() + (expiresIn ?? 3600) * 1000;
  session = {
    token,
    clientId: String(c.client_id ?? c.azp ?? c.sub ?? "unknown"),
    scopes: new Set(scope.split(" ").filter(Boolean)),
    force: typeof c.force === "string" ? c.force : null,
    expiresAt: exp,
  };
  return session;
}

export class SignInError extends Error {}

export async function signInWithSecret(clientId: string, secret: string): Promise<Session> {
  // client_secret_post and no credentials mode: the provider answers a wrong secret with a
  // Basic challenge, which must not turn into the browser's own login prompt.
  const body = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
  const response = await fetch("/oauth/token", {
    method: "POST",
    headers: { Accept: "application/json" },
    body,
    credentials: "omit",
  });
  const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof payload.access_token !== "string") {
    const reason = payload.error === "invalid_client" ? "unknown client or wrong secret" : String(payload.error ?? response.status);
    throw new SignInError(`Sign-in refused: ${reason}`);
  }
  return start(payload.access_token, Number(payload.expires_in) || undefined);
}

/** Plain http only to a provider on this machine, as the hub itself allows (tests). */
function requestOptions(config: OidcConfig): { [oauth.allowInsecureRequests]?: boolean } {
  const { protocol, hostname } = new URL(config.issuer);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
  return protocol === "http:" && loopback ? { [oauth.allowInsecureRequests]: true } : {};
}

async function server(config: OidcConfig): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(config.issuer);
  const response = await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...requestOptions(config) });
  return oauth.processDiscoveryResponse(issuer, response);
}

function redirectUri(): string {
  return `${window.location.origin}/`;
}

/** Sends the browser to the issuer; it comes back to `/` with `?code=...&state=...`. */
export async function beginOidc(config: OidcConfig): Promise<void> {
  const as = await server(config);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(as.authorization_endpoint ?? "");
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", config.scope);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  window.location.assign(url.href);
}

/** Completes a sign-in when the page was opened by the issuer's redirect; null otherwise. */
export async function completeOidc(config: OidcConfig): Promise<Session | null> {
  const here = new URL(window.location.href);
  const pending = sessionStorage.getItem(PENDING);
  if (!here.searchParams.has("code") || pending === null) return null;
  sessionStorage.removeItem(PENDING);
  // The code must not stay in the address bar or the history.
  window.history.replaceState(null, "", "/");
  const { verifier, state } = JSON.parse(pending) as { verifier: string; state: string };
  const as = await server(config);
  const client: oauth.Client = { client_id: config.clientId };
  const params = oauth.validateAuthResponse(as, client, here, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), verifier, requestOptions(config));
  const result = await oauth.processAuthorizationCodeResponse(as, client, response);
  return start(result.access_token, result.expires_in);
}
