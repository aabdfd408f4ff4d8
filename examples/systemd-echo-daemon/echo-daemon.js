#!/usr/bin/env node
// A socket-activated TCP echo daemon: systemd (or systemd-socket-activate)
// opens the listening socket(s), this process serves them, tells systemd it is
// ready, keeps the watchdog fed and says goodbye on SIGTERM.
//
//   systemd-socket-activate -l 127.0.0.1:7777 node echo-daemon.js   # try it
//   node echo-daemon.js --port 7777                                 # without systemd
//
// See README.md beside this file for the unit files.
'use strict';
const qsocket = require('../..');

const log = (msg) => process.stderr.write(`echo-daemon[${process.pid}]: ${msg}\n`);

/** --port N: listen on 127.0.0.1:N ourselves when no socket was passed. */
function portArgument() {
  const i = process.argv.indexOf('--port');
  if (i < 0) return null;
  const port = Number(process.argv[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    log(`bad --port ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return port;
}

function serveEcho(server, label) {
  server.newConnection.connect(() => {
    for (let s = server.nextPendingConnection(); s !== null; s = server.nextPendingConnection()) {
      s.readyRead.connect(() => s.write(s.readAll()));
    }
  });
  log(`serving echo on ${label}`);
}

// 1. The sockets: from systemd, else (with --port) our own.
const passed = qsocket.listenFds(); // also unsets LISTEN_* so children never see them
const servers = [];
for (const l of passed) {
  if (l.kind !== 'tcp-listener') {
    log(`ignoring fd ${l.fd} ("${l.name}"): a ${l.kind}, not a listening TCP socket`);
    continue;
  }
  const server = qsocket.serverFromListenFd(l); // throws with a clear message if it cannot
  servers.push(server);
  serveEcho(server, `${server.serverAddress()}:${server.serverPort()} (fd ${l.fd}, "${l.name}")`);
}
if (servers.length === 0) {
  const port = portArgument();
  if (port === null) {
    log(
      passed.length === 0
        ? 'no listening socket was passed (LISTEN_FDS is not set for this process). Start me through ' +
            'systemd (qsocket-echo.socket) or `systemd-socket-activate -l 127.0.0.1:7777 node echo-daemon.js`, ' +
            'or give --port N to listen on 127.0.0.1:N myself.'
        : 'none of the passed descriptors is a listening TCP socket.',
    );
    process.exit(1);
  }
  const server = new qsocket.QTcpServer();
  if (!server.listen('127.0.0.1', port)) {
    log(`cannot listen on 127.0.0.1:${port}: ${server.errorString()}`);
    process.exit(1);
  }
  servers.push(server);
  serveEcho(server, `127.0.0.1:${server.serverPort()} (--port)`);
}

// 2. Readiness: READY=1 with a status line. false = not under systemd, which is fine.
const status = `Echoing on ${servers.map((s) => `${s.serverAddress()}:${s.serverPort()}`).join(', ')}`;
if (!qsocket.sdNotifyReady(status)) log('not started by systemd with Type=notify (NOTIFY_SOCKET unset): no readiness sent');

// 3. The watchdog (WatchdogSec= in the unit): pings every WATCHDOG_USEC / 2 from
// the event loop; the timer never keeps the process alive by itself.
const watchdog = qsocket.startWatchdog();
if (watchdog) log(`watchdog enabled: ping every ${watchdog.intervalMs} ms`);

// 4. Shutdown: systemd sends SIGTERM on `systemctl stop`.
process.on('SIGTERM', () => {
  qsocket.sdNotifyStopping();
  watchdog?.stop();
  for (const s of servers) s.close();
  log('stopping');
  process.exit(0);
});
