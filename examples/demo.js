#!/usr/bin/env node
// `npm start`: a node:net server and a qsocket QTcpSocket client talk over
// loopback; every state change and signal of the client is printed.
'use strict';
const net = require('net');
const { QTcpSocket, SocketState, SocketError, SocketOption } = require('..');

const server = net.createServer((conn) => {
  conn.setEncoding('utf8');
  let pending = '';
  conn.on('data', (text) => {
    pending += text;
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      console.log(`  server  <- ${JSON.stringify(line)}`);
      conn.write(line === 'bye' ? 'see you\n' : `echo: ${line.toUpperCase()}\n`);
      if (line === 'bye') conn.end();
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`server listening on 127.0.0.1:${port}`);

  const s = new QTcpSocket();
  const messages = ['hello', 'qsocket speaks Qt', 'bye'];
  s.stateChanged.connect((st) => console.log(`  client  stateChanged(${SocketState[st]})`));
  s.hostFound.connect(() => console.log('  client  hostFound'));
  s.connected.connect(() => {
    console.log(`  client  connected: ${s.localAddress()}:${s.localPort()} -> ${s.peerAddress()}:${s.peerPort()}`);
    s.setSocketOption(SocketOption.LowDelayOption, 1);
    console.log(`  client  LowDelayOption = ${s.socketOption(SocketOption.LowDelayOption)}`);
    s.write(messages.shift() + '\n');
  });
  s.bytesWritten.connect((n) => console.log(`  client  bytesWritten(${n})`));
  s.readyRead.connect(() => {
    while (s.canReadLine()) {
      console.log(`  client  -> ${JSON.stringify(s.readLine().toString().trimEnd())}`);
      if (messages.length > 0) s.write(messages.shift() + '\n');
    }
  });
  s.errorOccurred.connect((e) => console.log(`  client  errorOccurred(${SocketError[e]}): ${s.errorString()}`));
  s.readChannelFinished.connect(() => console.log('  client  readChannelFinished'));
  s.disconnected.connect(() => {
    console.log('  client  disconnected');
    server.close(() => console.log('done'));
  });
  s.connectToHost('127.0.0.1', port);
});
