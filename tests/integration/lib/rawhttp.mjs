// Raw TCP HTTP for what fetch() cannot do: oversized headers, slow clients,
// malformed requests, pipelining. Resolves with everything the server sent until
// it closed the connection (or the timeout), plus whether it closed.
import net from 'node:net';

export function rawExchange(port, chunks, { delayMs = 0, timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('close', () => { closed = true; finish(); });
    sock.on('error', () => { closed = true; finish(); });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (done || sock.destroyed) break;
        sock.write(c);
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      }
    });
  });
}

/// Parses the first HTTP response in `data`: {status, headers, body}.
export function parseResponse(data) {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = data.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const len = Number(headers['content-length'] ?? 0);
  return { status: Number(statusLine.split(' ')[1]), headers, body: data.slice(end + 4, end + 4 + len), rest: data.slice(end + 4 + len) };
}
