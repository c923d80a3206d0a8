// A list's search box; the query is kept in the URL (`?q=`) so a reload or a shared link keeps it.
import { useState } from "preact/hooks";

/** The search query of the current URL, and a setter that keeps it there. */
export function useQuery(): [string, (v: string) => void] {
  const [q, setQ] = useState(new URLSearchParams(location.search).get("q") ?? "");
  return [
    q,
    (v: string) => {
      setQ(v);
      history.replaceState(null, "", v ? `${location.pathname}?q=${encodeURIComponent(v)}` : location.pathname);
    },
  ];
}

export function SearchBox(props: { label: string; value: string; onInput: (v: string) => void; placeholder?: string }) {
  return (
    <div class="toolbar">
      <label class="search">
        <span class="sr-only">{props.label}</span>
        <input
          type="search"
          placeholder={props.placeholder}
          value={props.value}
          onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
    </div>
  );
}

/** Whether any of `fields` contains the (trimmed, lower-cased) needle. */
export const matches = (needle: string, ...fields: (string | undefined)[]) => {
  const n = needle.trim().toLowerCase();
  return !n || fields.some((f) => (f ?? "").toLowerCase().includes(n));
};
