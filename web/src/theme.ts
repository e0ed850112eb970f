// One palette (palette.json, whose WCAG contrast ratios a test checks) for the CSS and the
// graph: set as CSS custom properties through the CSSOM, which the page's CSP allows.
import palette from "./palette.json";

export { palette };

export function applyPalette(root: HTMLElement = document.documentElement): void {
  const flat: Record<string, string> = {
    background: palette.background,
    surface: palette.surface,
    text: palette.text,
    muted: palette.muted,
    border: palette.border,
    link: palette.link,
    accent: palette.accent,
    "on-accent": palette.onAccent,
    focus: palette.focus,
    error: palette.error,
    within: palette.status.within,
    "due-soon": palette.status.dueSoon,
    past: palette.status.past,
    projection: palette.projection,
  };
  for (const [name, value] of Object.entries(flat)) root.style.setProperty(`--${name}`, value);
}

export function forceColour(force: string, forces: string[]): string {
  const index = forces.indexOf(force);
  const colours = palette.forces;
  return colours[(index < 0 ? forces.length : index) % colours.length] ?? palette.text;
}
