import { ApiRefusal, postRuntime } from "./api-client.js";
import { confirmAction } from "./confirm-dialog.js";
import { h } from "./dom.js";
import { toast } from "./toast.js";

/**
 * The operations the dashboard offers: runtime switches through POST /v1/runtime, the route
 * `vigil node standby`, `vigil resource move` etc. use, each after a confirmation. With a read
 * token the buttons are disabled (the agent would answer 403 anyway).
 */
export class Operations {
  constructor(token, who) {
    this.token = token;
    this.who = who;
  }

  get allowed() {
    return this.who.role === "operate";
  }

  /** Asks `question`; on yes sends the switch and says what came of it. */
  async run(question, request) {
    if (!(await confirmAction(question))) return;
    try {
      const result = await postRuntime(this.token, {
        ...request,
        by: `dashboard:${this.who.name}`,
      });
      if (result.ok) toast(`Done: committed as state version ${result.version}.`, "ok");
      else toast(`Not done: ${result.error}`, "error");
    } catch (error) {
      const status = error instanceof ApiRefusal ? ` (${error.status})` : "";
      toast(`Refused${status}: ${error.message}`, "error");
    }
  }

  /**
   * A button that runs one switch after asking: `action` is { question, request }, or a function
   * that makes it at the click (a move reads the node chosen then). Disabled without an operate
   * token.
   */
  button(label, action, attributes = {}) {
    const hint = typeof action === "function" ? label : action.question;
    return h(
      "button",
      {
        type: "button",
        ...attributes,
        disabled: !this.allowed,
        title: this.allowed ? hint : "read token: operations need an operate token",
        onclick: () => {
          const { question, request } = typeof action === "function" ? action() : action;
          this.run(question, request);
        },
      },
      label,
    );
  }
}
