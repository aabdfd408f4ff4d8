#!/usr/bin/env node
// The seed's fortune server, event-driven: every client that connects gets
// one fortune (a 16-bit big-endian length, then UTF-8 text) and is closed.
//   node examples/fortune-server.js [port]
'use strict';
const { QTcpServer } = require('..');

const fortunes = [
  "You've been leading a dog's life. Stay off the furniture.",
  "You've got to think about tomorrow.",
  'You will be surprised by a loud noise.',
  'You will feel hungry again in another hour.',
  'You might have mail.',
  'You cannot kill time without injuring eternity.',
  'Computers are not intelligent. They only think they are.',
];

const server = new QTcpServer();
if (!server.listen('127.0.0.1', Number(process.argv[2] ?? 0))) {
  console.error(`Unable to start the server: ${server.errorString()}`);
  process.exit(1);
}
console.log(`The server is running on 127.0.0.1:${server.serverPort()}`);

server.newConnection.connect(() => {
  const client = server.nextPendingConnection();
  if (!client) return;
  const text = Buffer.from(fortunes[Math.floor(Math.random() * fortunes.length)], 'utf8');
  const block = Buffer.alloc(2 + text.length);
  block.writeUInt16BE(text.length, 0);
  text.copy(block, 2);
  client.write(block);
  client.disconnectFromHost(); // after the fortune has been sent
});

process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
