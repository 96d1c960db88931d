// A minimal Nostr client for integration tests: publish one event, run one query, build signed
// events, and wait for a condition. Every call has a deadline and closes its socket.
import WebSocket from 'ws';
import { finalizeEvent } from 'nostr-tools/pure';

export const INBOX_RELAYS_KIND = 10050;
export const CLIENT_AUTH_KIND = 22242;

const now = () => Math.floor(Date.now() / 1000);

/// A signed NIP-42 AUTH event (kind 22242) answering `challenge` from the relay at `relayUrl`.
export function authEvent(secretKey, relayUrl, challenge, created_at = now()) {
  return finalizeEvent({
    kind: CLIENT_AUTH_KIND,
    created_at,
    tags: [['relay', relayUrl], ['challenge', challenge]],
    content: '',
  }, secretKey);
}

/// A signed NIP-17 inbox relay list (kind 10050) with one ["relay", url] tag per URL.
export function inboxListEvent(secretKey, relayUrls, created_at = now()) {
  return finalizeEvent({
    kind: INBOX_RELAYS_KIND,
    created_at,
    tags: relayUrls.map((url) => ['relay', url]),
    content: '',
  }, secretKey);
}

/// Opens one websocket to `url` and runs `onMessage(msg, peer)` for each parsed relay message
/// until `peer.done(value)` or `peer.fail(err)`; rejects on timeout, socket error or close first.
/// When the relay sends ["AUTH", challenge] and `secretKey` is given, answers it; `peer.authOk`
/// turns true once the relay OKs that AUTH, and `onAuthed(peer)` is called then.
function session(url, { timeoutMs, secretKey, what }, onOpen, onMessage, onAuthed = () => {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    let finished = false;
    let authId = null;
    const peer = {
      ws,
      authOk: false,
      challenge: null,
      send: (msg) => ws.send(JSON.stringify(msg)),
      done: (value) => finish(null, value),
      fail: (err) => finish(err instanceof Error ? err : new Error(String(err))),
    };
    const timer = setTimeout(() => finish(new Error(`${what} on ${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
    function finish(err, value) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.on('error', () => {});
      if (ws.readyState === WebSocket.OPEN) ws.close();
      else ws.terminate();
      if (err) reject(err); else resolve(value);
    }
    ws.on('error', (err) => finish(new Error(`${what} on ${url}: ${err.message}`)));
    ws.on('unexpected-response', (req, res) => finish(new Error(`${what} on ${url}: HTTP ${res.statusCode}`)));
    ws.on('close', (code) => finish(new Error(`${what} on ${url}: closed (${code}) before an answer`)));
    ws.on('open', () => onOpen(peer));
    ws.on('message', (data) => {
      let msg;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        return; // not JSON: ignored, like most clients
      }
      if (!Array.isArray(msg)) return;
      if (msg[0] === 'AUTH' && typeof msg[1] === 'string') {
        peer.challenge = msg[1];
        if (secretKey) {
          const ev = authEvent(secretKey, url, msg[1]);
          authId = ev.id;
          peer.send(['AUTH', ev]);
        }
        return;
      }
      if (msg[0] === 'OK' && authId !== null && msg[1] === authId) {
        authId = null;
        if (msg[2] === true) {
          peer.authOk = true;
          onAuthed(peer);
        } else {
          peer.fail(new Error(`${what} on ${url}: AUTH refused: ${msg[3]}`));
        }
        return;
      }
      try {
        onMessage(msg, peer);
      } catch (err) {
        peer.fail(err);
      }
    });
  });
}

const isAuthRequired = (text) => typeof text === 'string' && text.startsWith('auth-required:');

/**
 * Publishes `event` to `url`; resolves with [accepted, message] from the relay's OK.
 * With `secretKey`, answers an AUTH challenge and, if the relay said `auth-required:`, sends the
 * event once more after the AUTH was OKed. Rejects on timeout, error or close before the OK.
 */
export function publishTo(url, event, { timeoutMs = 5000, secretKey } = {}) {
  let refusedForAuth = false;
  let resent = false;
  const resend = (peer) => {
    if (refusedForAuth && !resent) {
      resent = true;
      peer.send(['EVENT', event]);
    }
  };
  return session(url, { timeoutMs, secretKey, what: 'publish' },
    (peer) => peer.send(['EVENT', event]),
    (msg, peer) => {
      if (msg[0] !== 'OK' || msg[1] !== event.id) return;
      const accepted = msg[2] === true;
      const text = typeof msg[3] === 'string' ? msg[3] : '';
      if (!accepted && isAuthRequired(text) && secretKey && !resent) {
        refusedForAuth = true;
        if (peer.authOk) resend(peer); // else: resent when the AUTH is OKed
        return;
      }
      peer.done([accepted, text]);
    },
    resend);
}

/**
 * Sends ["REQ", sub, ...filters] to `url`; resolves with the events received before EOSE.
 * `filters` is one filter object or an array of them. With `secretKey`, answers an AUTH challenge
 * and repeats the REQ once if the relay CLOSED it with `auth-required:`. Rejects on CLOSED
 * (otherwise), timeout, error or close before EOSE.
 */
export function queryFrom(url, filters, { timeoutMs = 5000, secretKey } = {}) {
  const list = Array.isArray(filters) ? filters : [filters];
  const sub = `q${Math.random().toString(36).slice(2, 10)}`;
  let events = [];
  let refusedForAuth = false;
  let resent = false;
  const resend = (peer) => {
    if (refusedForAuth && !resent) {
      resent = true;
      events = [];
      peer.send(['REQ', sub, ...list]);
    }
  };
  return session(url, { timeoutMs, secretKey, what: 'query' },
    (peer) => peer.send(['REQ', sub, ...list]),
    (msg, peer) => {
      if (msg[1] !== sub) return;
      if (msg[0] === 'EVENT' && msg[2] && typeof msg[2] === 'object') {
        events.push(msg[2]);
      } else if (msg[0] === 'EOSE') {
        peer.send(['CLOSE', sub]);
        peer.done(events);
      } else if (msg[0] === 'CLOSED') {
        if (isAuthRequired(msg[2]) && secretKey && !resent) {
          refusedForAuth = true;
          if (peer.authOk) resend(peer);
          return;
        }
        peer.fail(new Error(`query on ${url}: CLOSED: ${msg[2]}`));
      }
    },
    resend);
}

/// Polls `predicate` (may be async) every `intervalMs` until it returns a truthy value, which it
/// resolves with; rejects after `timeoutMs` naming `what`.
export async function waitFor(predicate, { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
