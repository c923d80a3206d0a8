// The one "Page not found" screen, for every unknown deep link.
import { useEffect } from "preact/hooks";
import { Link } from "../router";

export function NotFound({ back = "/apis", backLabel = "Go to the APIs list" }: { back?: string; backLabel?: string }) {
  useEffect(() => {
    document.title = "Page not found · API Gateway";
  }, []);
  return (
    <div class="page">
      <h1>Page not found</h1>
      <p>
        There is nothing at <code>{location.pathname}</code>.
      </p>
      <p>
        <Link href={back}>{backLabel}</Link>
      </p>
    </div>
  );
}
