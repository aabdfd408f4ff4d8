#!/usr/bin/env node
// Joins a multicast group and prints what arrives, as Qt's multicastreceiver does.
//   node examples/multicast-receiver.js [group=239.255.43.21] [port=45454] [count=5] [iface-address]
'use strict';
const { QUdpSocket, QHostAddress, BindFlag } = require('..');

const [group = '239.255.43.21', port = '45454', count = '5', iface] = process.argv.slice(2);
const socket = new QUdpSocket();
if (!socket.bind(QHostAddress.AnyIPv4, Number(port), BindFlag.ShareAddress | BindFlag.ReuseAddressHint)) {
  console.error(`bind failed: ${socket.errorString()}`);
  process.exit(1);
}
if (!socket.joinMulticastGroup(group, iface ? new QHostAddress(iface) : undefined)) {
  console.error(`join failed: ${socket.errorString()}`);
  process.exit(1);
}
console.log(`joined ${group} on port ${port}`);
let received = 0;
socket.readyRead.connect(() => {
  while (socket.hasPendingDatagrams()) {
    const d = socket.readDatagram();
    console.log(`received "${d.data}" from ${d.address}`);
    if (++received >= Number(count)) {
      socket.leaveMulticastGroup(group, iface ? new QHostAddress(iface) : undefined);
      socket.close();
      return;
    }
  }
});
