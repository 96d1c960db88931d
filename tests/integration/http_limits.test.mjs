// The HTTP front-end's contract from api.md, through the real binary: JSON error
// envelopes for unknown routes and wrong methods, the 64 KiB body limit (413), the
// 16 KiB header limit (431), and the header (10 s) and idle (30 s) timeouts that
// drop slow or idle clients without affecting anyone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relayhost } from './lib/relayhost.mjs';
import { rawExchange, parseResponse } from './lib/rawhttp.mjs';

let rh;
before(async () => { rh = await Relayhost.start(); });
after(async () => { await rh.stop(); rh.cleanup(); });

function assertEnvelope(res, status, code) {
  assert.ok(res, 'no response');
  assert.equal(res.status, status);
  assert.match(res.headers['content-type'], /^application\/json/);
  const body = JSON.parse(res.body);
  assert.equal(body.code, code);
  assert.equal(typeof body.error, 'string');
  assert.ok(body.error.length > 0);
}

test('unknown route: 404 not-found envelope', async () => {
  for (const p of ['/nope', '/tenant/relays/x/y', '/healthz/', '/HEALTHZ']) {
    const res = await rh.fetch(p);
    assert.equal(res.status, 404, p);
    const body = await res.json();
    assert.equal(body.code, 'not-found');
  }
});

test('wrong method: 405 method-not-allowed envelope with Allow', async () => {
  const res = await rh.fetch('/healthz', { method: 'DELETE' });
  assert.equal(res.status, 405);
  assert.match(res.headers.get('allow'), /GET/);
  assert.equal((await res.json()).code, 'method-not-allowed');
});

test('every response carries a request id', async () => {
  const a = await rh.fetch('/healthz');
  const b = await rh.fetch('/healthz');
  assert.ok(a.headers.get('x-request-id'));
  assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
});

test('a body over 64 KiB is 413 payload-too-large; exactly 64 KiB is read', async () => {
  const big = 'x'.repeat(64 * 1024 + 1);
  const over = await rawExchange(rh.port, [
    `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`, big]);
  assertEnvelope(parseResponse(over.data), 413, 'payload-too-large');
  const exact = 'x'.repeat(64 * 1024);
  const at = await rawExchange(rh.port, [
    `POST /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${exact.length}\r\n\r\n`, exact]);
  // The body was accepted by the parser; the route only allows GET.
  assertEnvelope(parseResponse(at.data), 405, 'method-not-allowed');
});

test('a chunked body over 64 KiB is 413 too', async () => {
  const chunk = 'y'.repeat(8192);
  const parts = [`POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`];
  for (let i = 0; i < 9; i++) parts.push(`2000\r\n${chunk}\r\n`);
  parts.push('0\r\n\r\n');
  const r = await rawExchange(rh.port, parts);
  assertEnvelope(parseResponse(r.data), 413, 'payload-too-large');
});

test('a header block over 16 KiB is 431', async () => {
  const r = await rawExchange(rh.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`]);
  const res = parseResponse(r.data);
  assert.equal(res.status, 431);
  assert.equal(JSON.parse(res.body).code, 'headers-too-large');
});

test('a malformed request line is 400 and the connection closes', async () => {
  const r = await rawExchange(rh.port, ['GARBAGE\r\n\r\n']);
  const res = parseResponse(r.data);
  assert.equal(res?.status, 400);
  assert.ok(r.closed);
});

test('request smuggling is refused: CL with TE, two Content-Lengths, TE other than chunked; a folded line is one header', async () => {
  const cases = {
    'Content-Length and Transfer-Encoding': 'POST /tenant/relays HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'two different Content-Lengths': 'POST /tenant/relays HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n' +
      'Content-Length: 40\r\n\r\nabcdGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'Transfer-Encoding not chunked': 'POST /tenant/relays HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabcd',
  };
  for (const [name, raw] of Object.entries(cases)) {
    const r = await rawExchange(rh.port, [raw]);
    const res = parseResponse(r.data);
    assert.equal(res?.status, 400, `${name}: ${r.data.slice(0, 200)}`);
    assert.ok(r.closed, `${name}: the connection closes`);
    // Nothing after the ambiguous request was answered as a request of its own.
    assert.equal((r.data.match(/HTTP\/1\.1 /g) ?? []).length, 1, `${name}: one response only`);
  }
  // Obsolete line folding: Beast joins the folded line into the header before it
  // (RFC 9112 §5.2 allows a server to replace obs-fold with SP instead of refusing
  // it), so it cannot smuggle a header or a request: one request, one answer.
  const folded = await rawExchange(rh.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n Content-Length: 5\r\n' +
    'Connection: close\r\n\r\nGET /tenant HTTP/1.1\r\n\r\n']);
  assert.equal((folded.data.match(/HTTP\/1\.1 /g) ?? []).length, 1, folded.data);
  assert.equal(parseResponse(folded.data)?.status, 200);
  assert.equal((await rh.fetch('/healthz')).status, 200);
});

test('keep-alive: two requests on one connection, pipelined, answered in order', async () => {
  const r = await rawExchange(rh.port, [
    'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  const first = parseResponse(r.data);
  assert.equal(first.status, 200);
  const second = parseResponse(first.rest);
  assert.equal(second.status, 404);
});

test('slow header client dropped after 10 s, idle keep-alive after 30 s, others unaffected', async () => {
  const t0 = Date.now();
  // Sends one header byte every 500 ms for 20 s: never completes its header block.
  const dribble = ['GET /healthz HTTP/1.1\r\n', ...'X-Slow: abcdefghijklmnopqrstuvwxyz0123456789abcd'.split('')];
  const slow = rawExchange(rh.port, dribble, { delayMs: 500, timeoutMs: 25000 });
  // One request, then idle on the keep-alive connection.
  const idle = rawExchange(rh.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 45000 });
  // Meanwhile, others are served.
  for (let i = 0; i < 5; i++) {
    const res = await rh.fetch('/healthz');
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 500));
  }
  const s = await slow;
  const slowElapsed = Date.now() - t0;
  assert.ok(s.closed, 'the slow client was not disconnected');
  assert.ok(slowElapsed >= 9000 && slowElapsed < 20000, `slow client dropped after ${slowElapsed} ms`);
  const i = await idle;
  const idleElapsed = Date.now() - t0;
  assert.equal(parseResponse(i.data).status, 200);
  assert.ok(i.closed, 'the idle connection was not closed');
  assert.ok(idleElapsed >= 29000, `idle connection closed after ${idleElapsed} ms`);
});
