#!/usr/bin/env node
// The seed's blocking fortune client: a worker thread uses only the
// synchronous calls (waitForConnected, waitForReadyRead), while the main
// thread's event loop stays free and keeps counting its own turns.
//   node examples/blocking-fortune-client.js <host> <port> [count=3]
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

if (isMainThread) {
  const [host = '127.0.0.1', port, count = '3'] = process.argv.slice(2);
  if (!port) {
    console.error('usage: blocking-fortune-client.js <host> <port> [count]');
    process.exit(2);
  }
  let turns = 0;
  let spinning = true;
  const spin = () => {
    turns++;
    if (spinning) setImmediate(spin);
  };
  spin();
  const worker = new Worker(__filename, { workerData: { host, port: Number(port), count: Number(count) } });
  worker.on('message', (m) => {
    if (m.fortune) console.log(m.fortune);
    if (m.error) {
      console.error(m.error);
      process.exitCode = 1;
    }
  });
  worker.on('exit', () => {
    spinning = false;
    console.log(`(the main thread's event loop turned ${turns} times meanwhile)`);
  });
} else {
  const { QTcpSocket } = require('..');
  const { host, port, count } = workerData;
  const timeout = 5000;
  for (let i = 0; i < count; i++) {
    const socket = new QTcpSocket();
    socket.connectToHost(host, port);
    if (!socket.waitForConnected(timeout)) {
      parentPort.postMessage({ error: socket.errorString() });
      break;
    }
    while (socket.bytesAvailable() < 2) {
      if (!socket.waitForReadyRead(timeout)) {
        parentPort.postMessage({ error: socket.errorString() });
        process.exit(1);
      }
    }
    const size = socket.peek(2).readUInt16BE(0);
    while (socket.bytesAvailable() < 2 + size) {
      if (!socket.waitForReadyRead(timeout)) {
        parentPort.postMessage({ error: socket.errorString() });
        process.exit(1);
      }
    }
    socket.read(2);
    parentPort.postMessage({ fortune: socket.read(size).toString('utf8') });
    socket.abort();
  }
}
