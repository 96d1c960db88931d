// Nostr relays on 127.0.0.1 that integration tests start in-process, as counterparts for
// relayhost's outgoing Nostr traffic.
//
// startRelay: a REAL relay someone else wrote, @nostr-relay/core (pinned 0.0.40), behind the `ws`
// package. Core ships no storage, so MemoryEventRepository below implements its EventRepository
// interface (NIP-01 filters, replaceable and addressable events) in memory.
//
// NIP-42: core does the AUTH itself when it is given a hostname: it sends ["AUTH", challenge] on
// connect and checks a kind-22242 AUTH event (id, signature, `challenge` tag equal to the one it
// sent, `relay` tag whose URL hostname is 127.0.0.1, created_at within 10 minutes) before it sets
// the connection's pubkey. Core does NOT refuse EVENTs from unauthenticated connections, so with
// `auth: true` a HandleMessagePlugin (core's own middleware hook, authGate below) answers
// ["OK", id, false, "auth-required: …"] to every EVENT on a connection core has not authenticated.
//
// startBadRelay: misbehaving relays (silent, silent_ws, garbage, huge_frame, mid_frame_close,
// notice_flood, http_error) for the failure paths.
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { listenOn } from './listen.mjs';
import { NostrRelay } from '@nostr-relay/core';
import { EventRepository, EventType, EventUtils, LogLevel, MessageType } from '@nostr-relay/common';

export const HUGE_FRAME_BYTES = 10 * 1024 * 1024;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// ---------------------------------------------------------------------------------------------
// In-memory event repository for @nostr-relay/core.

function matchesFilter(event, filter) {
  if (filter.ids && !filter.ids.includes(event.id)) return false;
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false;
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false;
  if (filter.since !== undefined && event.created_at < filter.since) return false;
  if (filter.until !== undefined && event.created_at > filter.until) return false;
  for (const [key, values] of Object.entries(filter)) {
    if (key.length !== 2 || key[0] !== '#' || !Array.isArray(values)) continue;
    const name = key[1];
    if (!event.tags.some((t) => t[0] === name && values.includes(t[1]))) return false;
  }
  return true;
}

// NIP-01 order: newest first, ties by lowest id.
const newestFirst = (a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/// Events in a Map by id. Replaceable events (0, 3, 10000–19999) are keyed by (kind, pubkey),
/// addressable ones (30000–39999) by (kind, pubkey, d): the newest wins, a tie goes to the lower
/// id (NIP-01); an older one is answered as a duplicate and not stored.
export class MemoryEventRepository extends EventRepository {
  constructor() {
    super();
    this.byId = new Map();
  }

  isSearchSupported() { return false; }

  upsert(event) {
    if (this.byId.has(event.id)) return { isDuplicate: true };
    const type = EventUtils.getType(event.kind);
    if (type === EventType.REPLACEABLE || type === EventType.PARAMETERIZED_REPLACEABLE) {
      const d = EventUtils.extractDTagValue(event);
      const same = [...this.byId.values()].filter((e) => e.kind === event.kind && e.pubkey === event.pubkey
        && (type === EventType.REPLACEABLE || EventUtils.extractDTagValue(e) === d));
      if (same.some((e) => newestFirst(e, event) < 0)) return { isDuplicate: true };
      for (const e of same) this.byId.delete(e.id);
    }
    this.byId.set(event.id, event);
    return { isDuplicate: false };
  }

  find(filter) {
    const found = [...this.byId.values()].filter((e) => matchesFilter(e, filter)).sort(newestFirst);
    return filter.limit !== undefined ? found.slice(0, filter.limit) : found;
  }

  async deleteByDeletionRequest(event) {
    const ids = event.tags.filter((t) => t[0] === 'e').map((t) => t[1]);
    for (const id of ids) {
      const e = this.byId.get(id);
      if (e && e.pubkey === event.pubkey) this.byId.delete(id);
    }
  }

  async destroy() {}

  all() { return [...this.byId.values()].sort(newestFirst); }
  clear() { this.byId.clear(); }
}

// ---------------------------------------------------------------------------------------------
// Shared plumbing.

function trackSockets(server) {
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

async function closeServer(server, sockets, wss) {
  for (const ws of wss?.clients ?? []) ws.terminate();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
  await new Promise((resolve) => server.close(() => resolve()));
}

/// The shape check @nostr-relay/validator would do, so core never sees a non-event.
function isEventShaped(e) {
  return e !== null && typeof e === 'object' && !Array.isArray(e)
    && typeof e.id === 'string' && typeof e.pubkey === 'string' && typeof e.sig === 'string'
    && Number.isInteger(e.created_at) && Number.isInteger(e.kind) && typeof e.content === 'string'
    && Array.isArray(e.tags) && e.tags.every((t) => Array.isArray(t) && t.every((v) => typeof v === 'string'));
}

function checkMessage(msg) {
  if (!Array.isArray(msg) || typeof msg[0] !== 'string') return 'invalid: message must be a JSON array starting with a string';
  switch (msg[0]) {
    case MessageType.EVENT:
    case MessageType.AUTH:
      return msg.length === 2 && isEventShaped(msg[1]) ? null : `invalid: malformed ${msg[0]} message`;
    case MessageType.REQ:
      return typeof msg[1] === 'string' && msg.length >= 3
        && msg.slice(2).every((f) => f !== null && typeof f === 'object' && !Array.isArray(f))
        ? null : 'invalid: malformed REQ message';
    case MessageType.CLOSE:
      return typeof msg[1] === 'string' ? null : 'invalid: malformed CLOSE message';
    default:
      return `invalid: unknown message type ${msg[0]}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The real relay.

/**
 * Starts @nostr-relay/core on 127.0.0.1.
 * @param {object} [o]
 * @param {number} [o.port]    absent or 0: a free port.
 * @param {boolean} [o.auth]   NIP-42: send a challenge on connect and refuse EVENTs until AUTH.
 * @returns {Promise<{url, port, events(), connections(), messages, authed, stop(), restart()}>}
 *   events(): the stored events, newest first. connections(): open TCP connections.
 *   messages: every client message received, parsed (unparseable text is logged as {unparsed}).
 *   authed: Set of pubkeys that passed AUTH. restart({keepEvents = true}): stop, then listen on
 *   the same port again; the stored events survive unless keepEvents is false.
 */
export async function startRelay({ port = 0, auth = false } = {}) {
  const repository = new MemoryEventRepository();
  const messages = [];
  const authed = new Set();
  let relay, server, wss, sockets;

  // auth-required gate for EVENTs, in front of core's handler (see the header comment).
  const authGate = {
    async handleMessage(ctx, message, next) {
      if (message[0] === MessageType.EVENT && !ctx.pubkey) {
        ctx.sendMessage([MessageType.OK, message[1].id, false, 'auth-required: this relay only accepts events after NIP-42 AUTH']);
        return { messageType: MessageType.EVENT, success: false };
      }
      const result = await next();
      if (message[0] === MessageType.AUTH && result?.success && ctx.pubkey) authed.add(ctx.pubkey);
      return result;
    },
  };

  async function open() {
    relay = new NostrRelay(repository, {
      hostname: auth ? '127.0.0.1' : undefined,
      logLevel: LogLevel.ERROR,
      // No result caches: a query right after a publish must see it.
      filterResultCacheTtl: 0,
      eventHandlingResultCacheTtl: 0,
    });
    if (auth) relay.register(authGate);
    server = http.createServer((req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain' });
      res.end('websocket only\n');
    });
    sockets = trackSockets(server);
    wss = new WebSocketServer({ server });
    // ws re-emits the http server's errors; a taken port is listenOn()'s to report, the rest stays loud.
    wss.on('error', (e) => { if (e.code !== 'EADDRINUSE') throw e; });
    const current = relay;
    wss.on('connection', (ws, req) => {
      current.handleConnection(ws, req.socket.remoteAddress);
      ws.on('message', (data, isBinary) => {
        let msg;
        try {
          msg = JSON.parse(data.toString('utf8'));
        } catch {
          messages.push({ unparsed: data.toString('utf8'), isBinary });
          ws.send(JSON.stringify(['NOTICE', 'invalid: not JSON']));
          return;
        }
        messages.push(msg);
        const problem = checkMessage(msg);
        if (problem) {
          ws.send(JSON.stringify(['NOTICE', problem]));
          return;
        }
        current.handleMessage(ws, msg).catch((err) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(['NOTICE', `error: ${err.message}`]));
        });
      });
      ws.on('close', () => current.handleDisconnect(ws));
      ws.on('error', () => {});
    });
    port = await listenOn(server, port);
  }

  async function close() {
    if (!server) return;
    const s = server;
    server = null;
    await closeServer(s, sockets, wss);
    await relay.destroy();
  }

  await open();
  return {
    get port() { return port; },
    get url() { return `ws://127.0.0.1:${port}`; },
    events: () => repository.all(),
    connections: () => sockets.size,
    messages,
    authed,
    stop: close,
    async restart({ keepEvents = true } = {}) {
      await close();
      if (!keepEvents) repository.clear();
      await open();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Bad relays.

export const BAD_RELAY_KINDS = ['silent', 'silent_ws', 'garbage', 'huge_frame', 'mid_frame_close', 'notice_flood', 'http_error'];

/// What `garbage` answers to every message, in this order: text that is not JSON, arrays of the
/// wrong shape, a JSON object, and one binary frame.
export const GARBAGE_REPLIES = [
  'not json',
  '["OK"]',
  '["EVENT","x",{}]',
  '{}',
  '["EOSE"]',
  '["OK",42,"yes",null]',
  '[',
  Buffer.from([0x00, 0xff, 0xfe, 0x80]),
];

/// notice_flood stops a connection after this many NOTICEs, so the flood is bounded.
export const NOTICE_FLOOD_MAX = 100_000;
const FLOOD_PADDING = 'x'.repeat(1000); // ~1 KiB a NOTICE, so backpressure sets in quickly
const FLOOD_HIGH_WATER = 256 * 1024;

/**
 * Starts a misbehaving relay on 127.0.0.1.
 *   silent          accepts TCP, never writes a byte (not even the HTTP upgrade answer).
 *   silent_ws       completes the websocket upgrade, then never sends a message (no OK, no EOSE;
 *                   pings are not answered either; ws still answers a close frame).
 *   garbage         answers every message with GARBAGE_REPLIES.
 *   huge_frame      answers every message with one text frame of HUGE_FRAME_BYTES (a NOTICE).
 *   mid_frame_close on the first message, writes a text frame header announcing 1000 bytes and
 *                   10 bytes of payload on the raw socket, then destroys the socket.
 *   notice_flood    sends NOTICEs from the upgrade on, as fast as the socket drains (keeps ws's
 *                   bufferedAmount under 256 KiB), never an OK; at most NOTICE_FLOOD_MAX of
 *                   about 1 KiB each per connection.
 *   http_error      answers the upgrade request (and any request) with HTTP 503.
 * @returns {Promise<{url, port, connections(), received, stop()}>} connections(): open TCP
 *   connections. received: websocket messages received; for silent, data chunks received; for
 *   http_error, requests answered 503. sent() (notice_flood): NOTICEs sent so far.
 */
export async function startBadRelay(kind, { port = 0 } = {}) {
  if (!BAD_RELAY_KINDS.includes(kind)) throw new Error(`unknown bad relay kind ${kind}`);
  let received = 0;
  let floodSent = 0;
  let server, sockets, wss;

  if (kind === 'silent') {
    server = net.createServer((s) => {
      s.on('data', () => { received++; });
      s.on('error', () => {});
    });
    sockets = trackSockets(server);
  } else if (kind === 'http_error') {
    const body = 'relay unavailable\n';
    const answer = `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    server = http.createServer((req, res) => {
      received++;
      res.writeHead(503, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(body);
    });
    server.on('upgrade', (req, socket) => {
      received++;
      socket.on('error', () => {});
      socket.end(answer);
    });
    sockets = trackSockets(server);
  } else if (kind === 'mid_frame_close') {
    // The handshake by hand, so the frame can be cut on the raw socket.
    server = http.createServer((req, res) => { res.writeHead(426); res.end(); });
    server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => {});
      const key = req.headers['sec-websocket-key'];
      if (!key) { socket.destroy(); return; }
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      let cut = false;
      const onData = () => {
        received++;
        if (cut) return;
        cut = true;
        // FIN + text opcode, unmasked, 16-bit length 1000; then 10 of the 1000 bytes.
        const frame = Buffer.concat([Buffer.from([0x81, 126, 0x03, 0xe8]), Buffer.from('["NOTICE",')]);
        socket.write(frame, () => socket.destroy());
      };
      if (head.length > 0) onData();
      socket.on('data', onData);
    });
    sockets = trackSockets(server);
  } else {
    server = http.createServer((req, res) => { res.writeHead(426); res.end(); });
    sockets = trackSockets(server);
    wss = new WebSocketServer({ server, autoPong: false });
    // ws re-emits the http server's errors; a taken port is listenOn()'s to report, the rest stays loud.
    wss.on('error', (e) => { if (e.code !== 'EADDRINUSE') throw e; });
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('message', () => {
        received++;
        if (kind === 'garbage') {
          for (const reply of GARBAGE_REPLIES) ws.send(reply, { binary: Buffer.isBuffer(reply) });
        } else if (kind === 'huge_frame') {
          const prefix = '["NOTICE","';
          const suffix = '"]';
          ws.send(prefix + 'x'.repeat(HUGE_FRAME_BYTES - prefix.length - suffix.length) + suffix);
        }
      });
      if (kind === 'notice_flood') {
        let sent = 0;
        const pump = () => {
          if (ws.readyState !== ws.OPEN || sent >= NOTICE_FLOOD_MAX) return;
          while (ws.bufferedAmount < FLOOD_HIGH_WATER && sent < NOTICE_FLOOD_MAX) {
            ws.send(JSON.stringify(['NOTICE', `flood ${sent++} ${FLOOD_PADDING}`]));
            floodSent++;
          }
          setTimeout(pump, 1);
        };
        pump();
      }
    });
  }

  port = await listenOn(server, port);
  let stopped = false;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    kind,
    connections: () => sockets.size,
    get received() { return received; },
    /// notice_flood: NOTICEs handed to ws so far, all connections together.
    sent: () => floodSent,
    async stop() {
      if (stopped) return;
      stopped = true;
      await closeServer(server, sockets, wss);
    },
  };
}
