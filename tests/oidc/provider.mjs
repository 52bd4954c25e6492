// A throwaway OpenID Connect provider for tests/test_browser_signin.py (never for production).
//
// Usage: REDIRECT_URI=http://127.0.0.1:PORT/oauth2callback node provider.mjs
// It listens on a free loopback port, prints one line `issuer <url>` on stdout once it serves, and
// runs until killed. One static confidential client (`agent-desk` / `agent-desk-test-secret`) and the
// static accounts below; the login page is a plain form (no password) the browser test fills.
//
// Deliberate choices, each because Streamlit's st.login (Authlib) is the relying party:
// * plain http on 127.0.0.1: Streamlit and Authlib's client have no https check of their own, and
//   oidc-provider allows http redirect URIs for web clients using the code flow;
// * `conformIdTokenClaims: false`: Authlib reads the user from the ID token only (it never calls
//   userinfo), so `email` / `email_verified` must be in the ID token, as real providers put them;
// * a `select_account` prompt: Streamlit always sends `prompt=select_account`, which oidc-provider
//   rejects unless a prompt of that name is registered; the login form resolves it;
// * pages without external fonts (the defaults load Google Fonts, the test network is closed).

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import { Provider, interactionPolicy } from 'oidc-provider';

const CLIENT_ID = 'agent-desk';
const CLIENT_SECRET = 'agent-desk-test-secret';

// accountId -> claims. `uma` has an @ops.test address the provider has NOT verified.
const ACCOUNTS = {
  vera: { email: 'vera@viewers.test', email_verified: true, name: 'Vera Viewer' },
  olga: { email: 'olga@ops.test', email_verified: true, name: 'Olga Operator' },
  ada: { email: 'ada@admins.test', email_verified: true, name: 'Ada Admin' },
  eve: { email: 'eve@outside.test', email_verified: true, name: 'Eve Outsider' },
  uma: { email: 'uma@ops.test', email_verified: false, name: 'Uma Unverified' },
};

const redirectUri = process.env.REDIRECT_URI;
if (!redirectUri) {
  console.error('REDIRECT_URI is required');
  process.exit(2);
}

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

function selectAccountPrompt() {
  // Requestable, so `prompt=select_account` is accepted; it stays pending until the interaction
  // result carries `select_account`, which the login form always sends.
  return new interactionPolicy.Prompt({ name: 'select_account', requestable: true });
}

function configuration() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const policy = interactionPolicy.base();
  policy.add(selectAccountPrompt());
  return {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        // Streamlit sends the same /oauth2callback as post_logout_redirect_uri.
        post_logout_redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: ['test-only-cookie-key-not-a-secret'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    async findAccount(ctx, id) {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
    interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out of the test provider?', `${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Provider error', `<pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre>`);
    },
  };
}

function loginForm(uid, notice = '') {
  return page(
    'Test provider sign-in',
    `${notice ? `<p role="alert">${escapeHtml(notice)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
  <label>Account <input name="login" autocomplete="off" autofocus></label>
  <button type="submit">Continue</button>
</form>`,
  );
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(provider, req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginForm(uid));
    return;
  }
  const accountId = (await readForm(req)).get('login') ?? '';
  if (!Object.hasOwn(ACCOUNTS, accountId)) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginForm(uid, `No test account named "${accountId}".`));
    return;
  }
  // A first-party client: consent is granted with the login, for exactly the requested scopes.
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId }, select_account: {} },
    { mergeWithLastSubmission: false },
  );
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(new URL(req.url, issuer).pathname);
    if (!match) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, match[1]).catch((err) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('interaction failed');
    });
  });
  console.log(`issuer ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
