// A real OpenID Provider (the OpenID-certified npm package oidc-provider) for
// rota's sign-in tests, on a free loopback port.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"clients": [client metadata...], "accounts": {"login": {"email": ..., "email_verified": ...}}}
// The provider's own development login form asks for a login and a password
// (any password); the login names one of the accounts. Consent is given by
// the first-party client's own configuration, so the form is the only step.
//
// Once listening it prints one JSON line, {"issuer": "http://127.0.0.1:PORT"}.
//
// POST /_test/next-id-token {"mode": M} makes the next token response carry
// an ID token that lies, to prove the client refuses it: "tamper" (a claim
// changed after signing), "audience" (re-signed with the provider's own key
// for another client), "expired" (re-signed, expired an hour ago), "issuer"
// (re-signed by the right key for another issuer).

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'rota-test', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [jwk] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: account.email_verified !== false };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'email'],
  // The ID token itself carries the email, as cloud.gov's provider does.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // rota is a first-party client: the grant holds what it asks for.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email');
    grant.addOIDCClaims(['email', 'email_verified']);
    await grant.save();
    return grant;
  },
  cookies: { keys: ['rota-test-cookie-key'] },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Error</title><h1>${out.error}</h1><p>${out.error_description || ''}</p>`;
  },
});

let mischief = null;

async function lie(idToken, mode) {
  if (mode === 'tamper') {
    const [head, body, signature] = idToken.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url'));
    claims.email = 'someone.else@example.gov';
    return [head, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  }
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'audience') claims.aud = 'another-app';
  else if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  else if (mode === 'issuer') claims.iss = 'http://127.0.0.1:1';
  else throw new Error(`unknown mode ${mode}`);
  return new SignJWT(claims).setProtectedHeader(decodeProtectedHeader(idToken)).sign(privateKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/next-id-token' && ctx.method === 'POST') {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    mischief = JSON.parse(body).mode;
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && mischief && ctx.body && ctx.body.id_token) {
    const mode = mischief;
    mischief = null;
    ctx.body = { ...ctx.body, id_token: await lie(ctx.body.id_token, mode) };
  }
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
