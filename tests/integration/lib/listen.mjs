// Listening for the stand-ins (zooid, test relays) on loopback.
//
// listenOn(server, port): listens on 127.0.0.1:`port` (0: any free port) and resolves
// with the port it got. A given port (a stand-in restarted, a relay coming back on its
// old URL) may be held for a moment by another process (ctest -j runs test files in
// parallel, and their free-port probes bind too): EADDRINUSE is retried a few times,
// with a growing pause, before it is thrown. Port 0 is never in use.
function listenOnce(server, port) {
  return new Promise((resolve, reject) => {
    const onError = (e) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address().port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

export async function listenOn(server, port) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listenOnce(server, port);
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || port === 0 || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
