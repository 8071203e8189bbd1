// A JsSIP user agent driven from the command line, so sipws's tests can
// put a SIP-over-WebSocket client that sipws does not ship in front of
// `sipws serve` (and beside `sipws listen` / `sipws send`).
//
//   node --experimental-websocket client.mjs --url ws://127.0.0.1:PORT \
//     --user alice --domain sipws.test --password secret \
//     [--register] [--options URI] [--message URI BODY]... \
//     [--await-messages N] [--timeout SECONDS]
//
// Steps run in this order: register (when asked), OPTIONS, each MESSAGE,
// then wait for N inbound MESSAGEs (JsSIP answers them 200), then
// un-REGISTER and stop. Every outcome is one JSON line on stdout; the
// last is {"event":"done","ok":bool}. Exit 0 when every step succeeded,
// 1 when one failed, 2 on bad arguments.

import JsSIP from 'jssip';

import { CLIENT_ARGS, CLIENT_DEFAULTS, finish, readArgs, say } from '../cli.mjs';

const args = readArgs('jssip/client.mjs', CLIENT_ARGS, CLIENT_DEFAULTS);

const socket = new JsSIP.WebSocketInterface(args.url);
const ua = new JsSIP.UA({
  sockets: [socket],
  uri: `sip:${args.user}@${args.domain}`,
  password: args.password,
  register: false,
  session_timers: false,
  user_agent: 'JsSIP interop client',
});

const inbound = [];
let inboundWaiter = null;
ua.on('newMessage', (e) => {
  if (e.originator !== 'remote') return;
  const body = e.request.body;
  const from = e.request.from.uri.toString();
  say({ event: 'message-received', from, body });
  inbound.push(body);
  if (inboundWaiter) inboundWaiter();
});

function once(emitter, ok, bad) {
  return new Promise((resolve, reject) => {
    emitter.once(ok, resolve);
    if (bad) emitter.once(bad, (e) => reject(e));
  });
}

// JsSIP reads a target without `@` as a user name of its own domain;
// a URI naming a host alone (`sip:example.test`) is made a URI object.
function target(text) {
  const m = /^(sips?):([^@]+)$/i.exec(text);
  return m ? new JsSIP.URI(m[1].toLowerCase(), null, m[2]) : text;
}

function send(kind, to, body) {
  return new Promise((resolve) => {
    const eventHandlers = {
      succeeded: (e) => resolve({ status: e.response.status_code }),
      failed: (e) => resolve({ status: e.response ? e.response.status_code : 0, cause: e.cause }),
    };
    if (kind === 'OPTIONS') ua.sendOptions(target(to), body, { eventHandlers });
    else ua.sendMessage(target(to), body, { eventHandlers, contentType: 'text/plain' });
  });
}

async function run() {
  let ok = true;
  ua.start();
  await once(ua, 'connected');
  say({ event: 'connected' });
  if (args.register) {
    ua.register();
    try {
      const e = await once(ua, 'registered', 'registrationFailed');
      say({ event: 'registered', status: e.response.status_code });
    } catch (e) {
      say({ event: 'registration-failed', status: e.response ? e.response.status_code : 0, cause: e.cause });
      return false;
    }
  }
  if (args.options) {
    const r = await send('OPTIONS', args.options, null);
    say({ event: 'options', ...r });
    ok = ok && r.status >= 200 && r.status < 300;
  }
  for (const [target, body] of args.messages) {
    const r = await send('MESSAGE', target, body);
    say({ event: 'message-sent', target, ...r });
    ok = ok && r.status >= 200 && r.status < 300;
  }
  while (inbound.length < args.awaitMessages) {
    await new Promise((resolve) => { inboundWaiter = resolve; });
  }
  if (args.register) {
    ua.unregister();
    await once(ua, 'unregistered');
    say({ event: 'unregistered' });
  }
  return ok;
}

// Give the socket a moment to close cleanly after ua.stop() before the
// process exits.
finish(run, args.timeout, async () => {
  ua.stop();
  await new Promise((resolve) => { setTimeout(resolve, 200); });
});
