import { ApiRefusal, whoAmI } from "./api-client.js";
import { ClusterModel } from "./cluster-model.js";
import { renderIfChanged } from "./dom.js";
import { openEventStream } from "./event-stream.js";
import { Operations } from "./operations.js";
import { forgetToken, savedToken, saveToken } from "./session.js";
import { fencesView } from "./views/fences.js";
import { heartbeatsView } from "./views/heartbeats.js";
import { nodesView } from "./views/nodes.js";
import { quorumView } from "./views/quorum.js";
import { resourcesView } from "./views/resources.js";
import { timelineView } from "./views/timeline.js";
import { WhatIfPanel } from "./views/what-if.js";

/**
 * The dashboard: asks for a token, checks it (GET /v1/whoami), then draws the cluster from the
 * agent's event stream (GET /v1/stream) as events come.
 */

/**
 * Events that come together (status, heartbeats, state) are drawn once. A timer, not
 * requestAnimationFrame: a tab in the background still follows the cluster, so it is right the
 * moment it is looked at.
 */
const DRAW_BATCH_MS = 30;

/** A status older than this means the agent stopped talking while the connection stayed open. */
const STALE_AFTER_MS = 3000;

const VIEWS = {
  nodes: nodesView,
  quorum: quorumView,
  heartbeats: heartbeatsView,
  resources: resourcesView,
  fences: fencesView,
  timeline: timelineView,
};

const byId = (id) => document.getElementById(id);
let closeStream = null;

function showSignIn(message = "") {
  closeStream?.();
  closeStream = null;
  byId("dashboard").hidden = true;
  byId("sign-out").hidden = true;
  byId("who").textContent = "";
  setConnection("signed-out", "signed out");
  byId("sign-in").hidden = false;
  byId("sign-in-error").textContent = message;
  byId("token").focus();
}

function setConnection(state, text) {
  const badge = byId("connection");
  badge.dataset.connection = state;
  badge.textContent = text;
}

async function connect(token) {
  let who;
  try {
    who = await whoAmI(token);
  } catch (error) {
    forgetToken();
    showSignIn(
      error instanceof ApiRefusal ? `The agent refused the token: ${error.message}` : error.message,
    );
    return;
  }
  saveToken(token);
  byId("sign-in").hidden = true;
  byId("sign-out").hidden = false;
  byId("who").textContent = `${who.name} (${who.role})`;
  byId("who").dataset.role = who.role;
  const model = new ClusterModel();
  const operations = new Operations(token, who);
  const whatIf = new WhatIfPanel(token);
  let lastStatusAt = 0;
  let drawPending = false;
  const draw = () => {
    drawPending = false;
    if (model.status === null) return;
    byId("dashboard").hidden = false;
    byId("cluster-name").textContent = model.status.cluster.name;
    byId("answering").textContent = `answered by ${model.status.node.name}`;
    for (const [id, view] of Object.entries(VIEWS)) {
      const { key, build } = view(model, operations);
      renderIfChanged(byId(id).querySelector(".body"), key, build);
    }
    const { key, build } = whatIf.view(model);
    renderIfChanged(byId("what-if").querySelector(".body"), key, build);
  };
  closeStream = openEventStream("/v1/stream", token, {
    onEvent: (name, data) => {
      if (!model.apply(name, data)) return;
      if (name === "status") {
        lastStatusAt = performance.now();
        if (byId("connection").dataset.connection === "stale") setConnection("live", "live");
      }
      if (!drawPending) {
        drawPending = true;
        setTimeout(draw, DRAW_BATCH_MS);
      }
    },
    onConnection: (state, detail) => {
      if (state === "refused") {
        forgetToken();
        showSignIn(`The agent refused the token: ${detail}`);
      } else if (state === "live") setConnection("live", "live");
      else if (state === "reconnecting") setConnection("reconnecting", `reconnecting (${detail})`);
      else setConnection("connecting", "connecting…");
    },
  });
  const watch = setInterval(() => {
    if (closeStream === null) clearInterval(watch);
    else if (
      byId("connection").dataset.connection === "live" &&
      performance.now() - lastStatusAt > STALE_AFTER_MS
    )
      setConnection("stale", "no news from the agent");
  }, 1000);
}

byId("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  connect(byId("token").value.trim());
});
byId("sign-out").addEventListener("click", () => {
  forgetToken();
  showSignIn();
});

const token = savedToken();
if (token === null) showSignIn();
else connect(token);
