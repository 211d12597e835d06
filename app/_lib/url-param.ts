// A dynamic route segment as the page should see it. Malformed percent-encoding ("%E0") is the
// client's mistake: the page answers 404 (notFound) for it, never a 500 from a URIError.

/** decodeURIComponent, or null when the text is not valid percent-encoded UTF-8. */
export function decodeParam(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
