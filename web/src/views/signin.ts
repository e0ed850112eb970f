import { beginOidc, type OidcConfig, signInWithSecret, SignInError } from "../auth";
import { h } from "../dom";

/** The sign-in page: the configured OIDC provider, or the development provider's clients. */
export function signIn(oidc: OidcConfig | null, done: () => void): HTMLElement {
  if (oidc) {
    const go = h("button", { type: "button", onClick: () => void beginOidc(oidc) }, "Sign in");
    return h(
      "section",
      { class: "signin" },
      h("h1", {}, "Sign in"),
      h("p", {}, "You will be taken to your organisation's sign-in page and brought back here."),
      go,
    );
  }
  const status = h("div", { role: "alert", "aria-live": "assertive" });
  const client = h("input", {
    id: "client",
    name: "client",
    autocomplete: "username",
    required: true,
    "aria-describedby": "client-hint",
  });
  const secret = h("input", {
    id: "secret",
    name: "secret",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "secret-hint",
  });
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { novalidate: true },
    h("label", { for: "client" }, "Role (client)"),
    h("p", { id: "client-hint", class: "hint" }, "coordinator, or analyst-XX for force XX (e.g. analyst-AS)"),
    client,
    h("label", { for: "secret" }, "Client secret"),
    h("p", { id: "secret-hint", class: "hint" }, "printed by make demo; kept in this tab's memory only"),
    secret,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    status.replaceChildren();
    if (!client.value.trim() || !secret.value) {
      status.append(h("p", { class: "error" }, "Enter a role and its secret."));
      return;
    }
    submit.disabled = true;
    signInWithSecret(client.value.trim(), secret.value)
      .then(() => done())
      .catch((error: unknown) => {
        const message = error instanceof SignInError ? error.message : "The hub could not be reached.";
        status.append(h("p", { class: "error" }, message));
      })
      .finally(() => {
        submit.disabled = false;
        secret.value = "";
      });
  });
  return h(
    "section",
    { class: "signin" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Development identity provider: choose a role and enter its client secret."),
    status,
    form,
  );
}
