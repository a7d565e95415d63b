// The peer gateway: Hive Gateway over the composed supergraph, with its
// response cache on when PEER_CACHE is 1 (the cached scenarios). Entries
// live as long as Passerelle's (2 s); every caller shares them, as
// Passerelle's anonymous callers do.
import { defineConfig } from '@graphql-hive/gateway';

export const gatewayConfig = defineConfig({
  ...(process.env.PEER_CACHE === '1'
    ? { responseCaching: { session: () => null, ttl: 2_000 } }
    : {}),
});
