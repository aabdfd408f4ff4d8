#!/usr/bin/env node
// A line client that goes through whatever proxy the environment names, the
// way curl and most Unix tools do: socks_proxy, all_proxy, https_proxy,
// http_proxy (lowercase or uppercase) and no_proxy. It connects to
// <host>:<port>, sends one line, prints the reply line and which proxy
// carried it.
//
//   all_proxy=socks5h://user:pass@proxy.example:1080 node examples/proxy-client.js example.net 7 "hello"
//   https_proxy=http://proxy.example:3128 no_proxy=.internal node examples/proxy-client.js db.internal 5432
//
// Options (before the host):
//   --resolve NAME:ADDRESS   answer lookups of NAME with ADDRESS instead of
//                            asking DNS (like curl's --resolve); repeatable.
//                            Only names the client itself resolves are
//                            affected: a socks5h:// or http:// proxy resolves
//                            the destination's name on its side.
//   --timeout MS             give up after MS milliseconds (default 10000).
//
// As in Qt 6, destinations named "localhost" or given as a loopback address
// never go through the system proxy.
'use strict';
const dns = require('dns');
const {
  QTcpSocket,
  QNetworkProxy,
  QNetworkProxyFactory,
  QNetworkProxyQuery,
  ProxyType,
  SocketError,
} = require('..');

function usage(message) {
  if (message) console.error(message);
  console.error('usage: proxy-client.js [--resolve NAME:ADDRESS]... [--timeout MS] <host> <port> [line]');
  process.exit(2);
}

const args = process.argv.slice(2);
const resolve = new Map();
let timeoutMs = 10000;
while (args.length > 0 && args[0].startsWith('--')) {
  const opt = args.shift();
  const value = args.shift();
  if (value === undefined) usage(`${opt} needs a value`);
  if (opt === '--resolve') {
    const colon = value.indexOf(':');
    if (colon <= 0) usage(`--resolve wants NAME:ADDRESS, got ${value}`);
    resolve.set(value.slice(0, colon).toLowerCase(), value.slice(colon + 1));
  } else if (opt === '--timeout') {
    timeoutMs = Number(value);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) usage(`bad --timeout ${value}`);
  } else {
    usage(`unknown option ${opt}`);
  }
}
const [host, portText, line = 'hello through the proxy'] = args;
const port = Number(portText);
if (!host || !Number.isInteger(port) || port < 1 || port > 65535) usage();

/** dns.lookup, except for the names given with --resolve. */
function lookup(name, options, callback) {
  const address = resolve.get(String(name).toLowerCase());
  if (address === undefined) return dns.lookup(name, options, callback);
  setImmediate(() => callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]));
}

function describeProxy(proxy) {
  switch (proxy.type()) {
    case ProxyType.NoProxy:
      return 'none (direct connection)';
    case ProxyType.Socks5Proxy:
    case ProxyType.HttpProxy: {
      const who = proxy.user() ? ` as ${proxy.user()}` : '';
      const h = proxy.hostName().includes(':') ? `[${proxy.hostName()}]` : proxy.hostName();
      return `${ProxyType[proxy.type()]} ${h}:${proxy.port()}${who}`;
    }
    default:
      return ProxyType[proxy.type()];
  }
}

// Read the proxy settings from the environment for every socket that does
// not set a proxy of its own (Qt: QNetworkProxyFactory::setUseSystemConfiguration).
QNetworkProxyFactory.setUseSystemConfiguration(true);

const socket = new QTcpSocket({ lookup });
// Which proxy the socket will use: the same question it asks itself.
const proxy = QNetworkProxy.resolveForSocket(socket.proxy(), new QNetworkProxyQuery(host, port));
console.log(`proxy: ${describeProxy(proxy)}`);

let reply = Buffer.alloc(0);
let done = false;
const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);

function fail(message) {
  if (done) return;
  done = true;
  clearTimeout(timer);
  console.error(`error: ${message}`);
  process.exitCode = 1;
  socket.abort();
}

socket.proxyAuthenticationRequired.connect((p) => {
  // A real program could prompt here and call authenticator.setUser() and
  // setPassword(); this one only takes credentials from the proxy URL.
  console.error(`the proxy ${p.hostName()}:${p.port()} wants credentials: put them in the URL (scheme://user:password@host:port)`);
});
socket.connected.connect(() => {
  console.log(`connected to ${socket.peerName()}:${socket.peerPort()} from ${socket.localAddress().toString()}:${socket.localPort()}`);
  socket.write(`${line}\n`);
});
socket.readyRead.connect(() => {
  reply = Buffer.concat([reply, socket.readAll()]);
  const nl = reply.indexOf(0x0a);
  if (nl < 0) return;
  done = true;
  clearTimeout(timer);
  console.log(`reply: ${reply.subarray(0, nl).toString('utf8')}`);
  socket.disconnectFromHost();
});
socket.errorOccurred.connect((error) => {
  if (done && error === SocketError.RemoteHostClosedError) return;
  fail(`${SocketError[error]}: ${socket.errorString()}`);
});
socket.connectToHost(host, port);
