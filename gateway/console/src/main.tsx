import { render } from "preact";
import { App } from "./app";
import { loadSession } from "./session";
import { startRouter } from "./router";
import "./styles.css";

startRouter();
// The session is known before the first page asks for data, so that its first
// request already carries the token.
void loadSession().finally(() => {
  const root = document.getElementById("app")!;
  root.textContent = "";
  render(<App />, root);
});
