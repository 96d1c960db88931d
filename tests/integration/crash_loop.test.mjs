// kill -9 at random points of a mixed workload, over and over (issue 16): several
// tenants at once create relays, rename them, switch them off and on, an admin
// suspends and lifts tenants; at a random moment relayhost is killed, restarted,
// and checked: every acknowledged write is there (a write in flight at the kill
// may have landed or not, nothing in between), and once zooid has caught up it
// holds exactly the state relayhost holds for every relay. CRASH_LOOP_ROUNDS
// (default 20) rounds; more offline: CRASH_LOOP_ROUNDS=200 node --test crash_loop.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { startZooid } from './lib/zooid_standin.mjs';

const ROUNDS = Number(process.env.CRASH_LOOP_ROUNDS ?? 20);
const TENANTS = 4;

async function until(what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test(`kill -9 at random points of a mixed workload, ${ROUNDS} times: every acknowledged write survives, zooid agrees`, async () => {
  const platformSk = generateSecretKey();
  const adminSk = generateSecretKey();
  const zooid = await startZooid({ whitelist: [getPublicKey(platformSk)] });  // a free port of its own
  const zooidPort = zooid.port;
  const rh = await Relayhost.start({
    env: {
      RELAY_DOMAIN: 'spaces.test',
      PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
      ZOOID_API_URL: `http://127.0.0.1:${zooidPort}`,
      HOSTING_ADMIN_PUBKEYS: getPublicKey(adminSk),
      ZOOID_RETRY_BASE_SECONDS: '1',
      ZOOID_RETRY_MAX_SECONDS: '2',
    },
  });
  // What the tests know was acknowledged, per relay: its latest acked name and
  // status, and the write in flight (if any) when the kill came.
  const tenants = Array.from({ length: TENANTS }, () => ({ sk: generateSecretKey(), relays: new Map(), suspended: false }));
  let serial = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const clients = tenants.map((t) => new Client(rh, t.sk));
      const admin = new Client(rh, adminSk);
      let stop = false;
      const inflight = new Map();  // relay id or 'new:<sub>' → the write in flight
      const worker = async (t, c) => {
        while (!stop) {
          const ids = [...t.relays.keys()];
          const op = ids.length === 0 || randomInt(4) === 0 ? 'create' : ['rename', 'toggle'][randomInt(2)];
          try {
            if (op === 'create') {
              const sub = `crash-${++serial}`;
              inflight.set(`new:${sub}`, { sub });
              const res = await c.post('/tenant/relays', { subdomain: sub, name: 'v0', plan: 'free' });
              inflight.delete(`new:${sub}`);
              if (res.status === 201) t.relays.set(res.json.id, { sub, name: 'v0', status: 'active', version: 0 });
              else if (res.status !== 403) assert.fail(`create: ${res.status} ${res.raw}`);
            } else {
              const id = ids[randomInt(ids.length)];
              const r = t.relays.get(id);
              if (op === 'rename') {
                const name = `v${r.version + 1}`;
                inflight.set(id, { name });
                const res = await c.put(`/tenant/relays/${id}`, { name });
                inflight.delete(id);
                if (res.status === 200) Object.assign(r, { name, version: r.version + 1 });
                else if (res.status !== 403) assert.fail(`rename: ${res.status} ${res.raw}`);
              } else {
                const status = r.status === 'active' ? 'inactive' : 'active';
                inflight.set(id, { status });
                const res = await c.put(`/tenant/relays/${id}`, { status });
                inflight.delete(id);
                if (res.status === 200) r.status = status;
                else if (res.status !== 403) assert.fail(`toggle: ${res.status} ${res.raw}`);
              }
            }
          } catch (e) {
            if (e.code === 'ERR_ASSERTION') throw e;
            return;  // the connection died with the server: this write's outcome is unknown
          }
        }
      };
      const adminWorker = async () => {
        while (!stop) {
          const t = tenants[randomInt(TENANTS)];
          const body = t.suspended ? { status: 'active' } : { status: 'suspended', reason: `round ${round}` };
          try {
            t.pendingSuspension = body.status;
            const res = await admin.put(`/admin/tenants/${getPublicKey(t.sk)}`, body);
            if (res.status === 200) t.suspended = body.status === 'suspended';
            t.pendingSuspension = undefined;
          } catch {
            return;
          }
          await new Promise((r) => setTimeout(r, 30));
        }
      };
      // The first call creates each tenant, so the admin can find it.
      for (const c of clients) await c.get('/tenant');
      const work = [...tenants.map((t, i) => worker(t, clients[i])), adminWorker()];
      await new Promise((r) => setTimeout(r, 100 + randomInt(600)));
      await rh.stop('SIGKILL');
      stop = true;
      await Promise.all(work);
      await rh.restart();

      // Every acknowledged write is there; a write in flight may have landed.
      for (const t of tenants) {
        const c = new Client(rh, t.sk);
        const got = new Map((await c.get('/tenant/relays?limit=100')).json.items.map((r) => [r.id, r]));
        for (const [id, want] of t.relays) {
          const have = got.get(id);
          assert.ok(have, `round ${round}: acknowledged relay ${want.sub} is there`);
          const pending = inflight.get(id);
          if (have.name !== want.name) {
            assert.equal(have.name, pending?.name, `round ${round}: ${want.sub} name`);
            want.name = have.name;
            want.version += 1;
          }
          const suspendedNow = have.status === 'suspended';
          if (!suspendedNow && have.status !== want.status) {
            assert.equal(have.status, pending?.status, `round ${round}: ${want.sub} status`);
            want.status = have.status;
          }
        }
        // A relay relayhost has that the test did not see acknowledged was in flight.
        for (const [id, have] of got)
          if (!t.relays.has(id)) {
            assert.ok(inflight.has(`new:${have.subdomain}`), `round ${round}: unexpected relay ${have.subdomain}`);
            t.relays.set(id, { sub: have.subdomain, name: have.name, status: have.status, version: 0 });
          }
        const tenantRow = (await c.get('/tenant')).json;
        if (t.pendingSuspension !== undefined) t.suspended = tenantRow.status === 'suspended';
        else assert.equal(tenantRow.status === 'suspended', t.suspended, `round ${round}: tenant suspension`);
        t.pendingSuspension = undefined;
        // Relay statuses follow the suspension.
        for (const r of (await c.get('/tenant/relays?limit=100')).json.items) {
          const want = t.relays.get(r.id);
          if (t.suspended) assert.ok(r.status === 'suspended' || r.status === 'inactive', `round ${round}: ${r.subdomain} ${r.status}`);
          else if (r.status !== 'suspended') want.status = r.status;
        }
      }
    }

    // zooid catches up and agrees with relayhost on every relay.
    const admin = new Client(rh, adminSk);
    await until('every relay synced', async () => {
      for (const t of tenants) {
        const items = (await new Client(rh, t.sk).get('/tenant/relays?limit=100')).json.items;
        if (items.some((r) => r.sync.state !== 'synced')) return false;
      }
      return true;
    });
    for (const t of tenants)
      for (const r of (await new Client(rh, t.sk).get('/tenant/relays?limit=100')).json.items) {
        const cfg = zooid.configs.get(r.id);
        assert.ok(cfg, `zooid has ${r.subdomain}`);
        assert.equal(cfg.inactive, r.status !== 'active', `zooid's view of ${r.subdomain} (${r.status})`);
        assert.equal(cfg.info.name, r.name, `zooid's name of ${r.subdomain}`);
      }
    assert.equal((await admin.get('/admin/relays?limit=1')).status, 200);
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});
