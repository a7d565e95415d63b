// An OpenID provider for the tests: oidc-provider (OpenID Certified), on
// 127.0.0.1 at a free port, issuing JWT access tokens for one API through
// resource indicators (RFC 8707), with the claims laid out as Keycloak,
// Entra ID or Auth0 lay them out.
//
//   node provider.mjs --audience https://passerelle.test/graphql
//
// Prints {"issuer":…} once it listens, then serves until killed.
//
// Clients:
//   passerelle-console   public and native (PKCE, any loopback port), for
//                        the console's sign-in; its tokens carry `scope`.
//   machine-LAYOUT       confidential (client_secret "secret-of-the-tests"),
//                        client credentials, for the API's tests; LAYOUT is
//                        one of the keys of LAYOUTS below, whose claims its
//                        tokens carry beside `scope`.
//
// Without `resource` (or `audience`) in the authorization request, the
// console gets an opaque token, as oidc-provider issues by default.
//
// POST /_test/rotate replaces the signing key by a new one: the old key
// is no longer published, and what it signed no longer checks.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const audience = option('audience');
if (!audience) {
  console.error('usage: node provider.mjs --audience URL');
  process.exit(2);
}

// The scopes of the API; the console may ask for any of them.
const SCOPES = ['region:bi', 'alerts:write', 'allocations:write', 'offers:read'];

// Claims beside `scope`, as each provider lays them out.
const LAYOUTS = {
  // oidc-provider, Auth0 and most OAuth servers: `scope` alone, a string.
  standard: { opco: 'AKTO' },
  // Keycloak: realm and client roles, named as roles are there; the CFA as
  // a user attribute mapped into a list, the OPCO as a number.
  keycloak: {
    realm_access: { roles: ['offline_access', 'passerelle-region-bi'] },
    resource_access: {
      'passerelle-api': { roles: ['passerelle-alerts'] },
      account: { roles: ['manage-account'] },
    },
    cfa: ['0141687A'],
    opco: 11,
  },
  // Entra ID: delegated scopes in `scp`, application roles in `roles`.
  entra: { scp: 'region:bi', roles: ['Alerts.Write'], extension_opco: 'OCAPIAT' },
  // Auth0 with RBAC: permissions in a list, custom claims namespaced.
  auth0: {
    permissions: ['region:bi', 'alerts:write'],
    'https://passerelle.region-normandie.fr/cfa': '0141687A',
  },
};

function newKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' };
}

const server = createServer((req, res) => handle(req, res));
await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
const issuer = `http://127.0.0.1:${server.address().port}`;

function build(key) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'passerelle-console',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/console/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      ...Object.keys(LAYOUTS).map((layout) => ({
        client_id: `machine-${layout}`,
        client_secret: 'secret-of-the-tests',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      })),
    ],
    jwks: { keys: [key] },
    cookies: { keys: ['a-cookie-key-of-the-tests'] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // No resource asked: none given, and the token is opaque.
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator !== audience) throw new errors.InvalidTarget();
          return {
            scope: SCOPES.join(' '),
            audience,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const layout = token.clientId?.startsWith('machine-') ? token.clientId.slice(8) : undefined;
      return layout ? LAYOUTS[layout] : undefined;
    },
    // A person who signs in grants what the console asks: no consent page.
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid');
      const resource = ctx.oidc.params.resource;
      if (resource) {
        const asked = String(ctx.oidc.params.scope ?? '').split(' ');
        grant.addResourceScope(resource, asked.filter((s) => SCOPES.includes(s)).join(' '));
      }
      await grant.save();
      return grant;
    },
  });
  return provider;
}

let current = build(newKey()).callback();

function handle(req, res) {
  if (req.method === 'POST' && req.url === '/_test/rotate') {
    current = build(newKey()).callback();
    res.writeHead(204).end();
    return;
  }
  current(req, res);
}

console.log(JSON.stringify({ issuer }));
process.on('SIGTERM', () => process.exit(0));
