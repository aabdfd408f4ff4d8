#!/usr/bin/env node
// The seed's fortune client, event-driven: connects, reads one fortune
// (16-bit length, then text) and prints it.
//   node examples/fortune-client.js <host> <port>
'use strict';
const { QTcpSocket, SocketError } = require('..');

const [host = '127.0.0.1', port] = process.argv.slice(2);
if (!port) {
  console.error('usage: fortune-client.js <host> <port>');
  process.exit(2);
}

const socket = new QTcpSocket();
socket.readyRead.connect(() => {
  if (socket.bytesAvailable() < 2) return;
  const size = socket.peek(2).readUInt16BE(0);
  if (socket.bytesAvailable() < 2 + size) return; // wait for the rest
  socket.read(2);
  console.log(socket.read(size).toString('utf8'));
  socket.abort();
});
socket.errorOccurred.connect((e) => {
  if (e === SocketError.RemoteHostClosedError) return;
  console.error(`The following error occurred: ${socket.errorString()}`);
  process.exitCode = 1;
});
socket.connectToHost(host, Number(port));
