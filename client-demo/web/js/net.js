// HTTP and WebSocket for the browser client: guest login, matchmaking, and the socket with the
// token in the subprotocol list (browsers cannot set headers). Errors carry messages for players.

/** An error with a message fit to show a player. */
export class PlayerError extends Error {}

/** What each close code means to a player (docs/protocol.md §6). */
export const CLOSE_MESSAGES = {
  1000: "Disconnected.",
  1001: "The server is shutting down.",
  1006: "The connection to the server was lost.",
  4000: "The server rejected a message from this client (protocol error).",
  4001: "Your connection was too slow to keep up, so the server closed it.",
  4002: "Too many messages: the server rate-limited this connection.",
  4003: "You were removed from the match by an operator.",
  4004: "You joined from somewhere else, so this connection was closed.",
  4005: "The match has ended.",
  4006: "The match stopped because of a server error.",
};

async function call(method, path, token, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new PlayerError("The server is unreachable. Check your connection and try again.");
  }
  const data = await res.json().catch(() => ({}));
  if (res.ok) return data;
  const byStatus = {
    400: data.message ? `Not accepted: ${data.message}.` : "The server did not accept that.",
    401: "The server rejected your login token. Please start again.",
    403: data.error === "guest_login_disabled" ? "Guest login is turned off on this server." : "Not allowed.",
    409: "That match is full.",
    429: data.error === "too_many_requests"
      ? `Too many attempts from your network; try again in ${res.headers.get("Retry-After") || "a few"} s.`
      : "Too many players from your network are in games right now; try again later.",
    503: data.error === "draining" ? "The server is shutting down; try again shortly." : "The server is full right now; try again shortly.",
  };
  throw new PlayerError(byStatus[res.status] || `The server answered ${res.status}.`);
}

export function login(name) { return call("POST", "/v1/auth/guest", null, { name }); }
export function matchmake(token) { return call("POST", "/v1/matchmake", token); }

/**
 * Where a match runs now (in a cluster any node answers, with the owner's `ws_url`), or null
 * once it is gone (ended, or its node died). Throws PlayerError when the server cannot say.
 */
export async function matchStatus(matchId) {
  let res;
  try {
    res = await fetch(`/v1/matches/${encodeURIComponent(matchId)}`);
  } catch {
    throw new PlayerError("The server is unreachable. Check your connection and try again.");
  }
  if (res.status === 404) return null;
  if (!res.ok) throw new PlayerError(`The server answered ${res.status}.`);
  return res.json();
}

/** Why a WebSocket that never opened failed: browsers hide the HTTP status, so ask. */
export async function explainFailedJoin(matchId) {
  try {
    const list = await call("GET", "/v1/matches");
    const m = list.find((x) => x.id === matchId);
    if (!m) return "That match no longer exists.";
    if (m.players >= m.capacity) return "That match is full.";
    return "The server refused the connection (your token may have expired). Please start again.";
  } catch (e) {
    return e.message;
  }
}

/** Opens the match socket with the token in the subprotocol list. */
export function openSocket(wsUrl, token) {
  const ws = new WebSocket(wsUrl, ["tickwire.v3", `tickwire.bearer.${token}`]);
  ws.binaryType = "arraybuffer";
  return ws;
}
