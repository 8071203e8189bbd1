// A SIP.js user agent driven from the command line, with the same
// arguments and JSON lines as ../jssip/client.mjs, so sipws's tests can
// put a second SIP-over-WebSocket client it does not ship in front of
// `sipws serve`:
//
//   node --experimental-websocket client.mjs --url ws://127.0.0.1:PORT \
//     --user alice --domain sipws.test --password secret \
//     [--register] [--options URI] [--message URI BODY]... \
//     [--await-messages N] [--timeout SECONDS]
//
// Steps: register, OPTIONS, each MESSAGE, wait for N inbound MESSAGEs
// (answered 200), un-REGISTER. Exit 0 when every step succeeded, 1 when
// one failed, 2 on bad arguments.

import {
  Messager, Registerer, RegistererState, UserAgent,
} from 'sip.js';

import { CLIENT_ARGS, CLIENT_DEFAULTS, finish, readArgs, say } from '../cli.mjs';

const args = readArgs('sipjs/client.mjs', CLIENT_ARGS, CLIENT_DEFAULTS);

const inbound = [];
let inboundWaiter = null;

const ua = new UserAgent({
  uri: UserAgent.makeURI(`sip:${args.user}@${args.domain}`),
  authorizationUsername: args.user,
  authorizationPassword: args.password,
  transportOptions: { server: args.url },
  userAgentString: 'SIP.js interop client',
  logLevel: 'error',
  delegate: {
    onMessage: (message) => {
      const body = message.request.body;
      say({ event: 'message-received', from: message.request.from.uri.toString(), body });
      message.accept();
      inbound.push(body);
      if (inboundWaiter) inboundWaiter();
    },
  },
});

// OPTIONS out of dialog through SIP.js's core (it has no OPTIONS API).
function options(target) {
  return new Promise((resolve) => {
    const uri = UserAgent.makeURI(target);
    const core = ua.userAgentCore;
    const request = core.makeOutgoingRequestMessage('OPTIONS', uri, ua.configuration.uri, uri, {});
    core.request(request, {
      onAccept: (r) => resolve({ status: r.message.statusCode }),
      onReject: (r) => resolve({ status: r.message.statusCode }),
      onRequestTimeout: () => resolve({ status: 0, cause: 'timeout' }),
      onTransportError: () => resolve({ status: 0, cause: 'transport error' }),
    });
  });
}

function message(target, body) {
  return new Promise((resolve) => {
    const m = new Messager(ua, UserAgent.makeURI(target), body, 'text/plain');
    m.message({
      requestDelegate: {
        onAccept: (r) => resolve({ status: r.message.statusCode }),
        onReject: (r) => resolve({ status: r.message.statusCode }),
      },
    }).catch((e) => resolve({ status: 0, cause: String(e) }));
  });
}

async function run() {
  let ok = true;
  await ua.start();
  say({ event: 'connected' });
  let registerer = null;
  if (args.register) {
    registerer = new Registerer(ua);
    const outcome = await new Promise((resolve) => {
      registerer.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) resolve({ ok: true });
      });
      registerer.register({
        requestDelegate: {
          onReject: (r) => resolve({ ok: false, status: r.message.statusCode }),
        },
      }).catch((e) => resolve({ ok: false, status: 0, cause: String(e) }));
    });
    if (!outcome.ok) {
      say({ event: 'registration-failed', status: outcome.status, cause: outcome.cause });
      return false;
    }
    say({ event: 'registered', status: 200 });
  }
  if (args.options) {
    const r = await options(args.options);
    say({ event: 'options', ...r });
    ok = ok && r.status >= 200 && r.status < 300;
  }
  for (const [target, body] of args.messages) {
    const r = await message(target, body);
    say({ event: 'message-sent', target, ...r });
    ok = ok && r.status >= 200 && r.status < 300;
  }
  while (inbound.length < args.awaitMessages) {
    await new Promise((resolve) => { inboundWaiter = resolve; });
  }
  if (registerer) {
    await new Promise((resolve) => {
      registerer.stateChange.addListener((s) => {
        if (s === RegistererState.Unregistered) resolve();
      });
      registerer.unregister().catch(resolve);
    });
    say({ event: 'unregistered' });
  }
  return ok;
}

finish(run, args.timeout, () => ua.stop().catch(() => {}));
