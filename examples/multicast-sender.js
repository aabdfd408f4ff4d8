#!/usr/bin/env node
// Sends numbered messages to a multicast group, as Qt's multicastsender does.
//   node examples/multicast-sender.js [group=239.255.43.21] [port=45454] [count=5] [iface-address]
// With an interface address (e.g. 127.0.0.1) the datagrams leave through that
// interface with a TTL of 0, so they never leave this machine.
'use strict';
const { QUdpSocket, QHostAddress, SocketOption } = require('..');

const [group = '239.255.43.21', port = '45454', count = '5', iface] = process.argv.slice(2);
const socket = new QUdpSocket();
socket.bind(QHostAddress.AnyIPv4, 0);
if (iface) {
  socket.setMulticastInterface(new QHostAddress(iface));
  socket.setSocketOption(SocketOption.MulticastTtlOption, 0);
}
socket.setSocketOption(SocketOption.MulticastLoopbackOption, 1);

let n = 0;
const timer = setInterval(() => {
  n++;
  const sent = socket.writeDatagram(`Message ${n}`, new QHostAddress(group), Number(port));
  console.log(sent < 0 ? `send failed: ${socket.errorString()}` : `sent Message ${n}`);
  if (n >= Number(count)) {
    clearInterval(timer);
    socket.close();
  }
}, 100);
