// Which negotiator a proxy type uses.
import { ProxyType } from '../enums';
import type { QNetworkProxy } from '../network-proxy';
import { createHttpConnectNegotiator } from './http-connect';
import type { NegotiatorFactory } from './negotiator';
import { createSocks5Negotiator } from './socks5';

/** The negotiator for a tunnelling proxy (Socks5Proxy or HttpProxy). */
export function negotiatorFor(proxy: QNetworkProxy): NegotiatorFactory {
  return proxy.type() === ProxyType.Socks5Proxy ? createSocks5Negotiator : createHttpConnectNegotiator;
}
