/**
 * The page's strings in the chosen language (public: the sign-in form needs
 * them), and the page itself already rendered in that language.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext } from '../server.js';
import { LANGS, MESSAGES, pickLang, type Lang } from '../i18n/index.js';
import { renderPage } from '../i18n/page.js';

export const LANG_COOKIE = 'gc_lang';

export function i18nRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/api/i18n', { config: { access: 'public' } }, async (req, reply) => {
    const lang = pickLang(req.cookies[LANG_COOKIE], req.headers['accept-language']);
    reply.header('vary', 'accept-language, cookie');
    return { lang, langs: LANGS, strings: MESSAGES[lang] };
  });

  // Rendered once per language at start: a page that cannot be translated stops the server here.
  const html = readFileSync(join(ctx.publicDir, 'index.html'), 'utf8');
  const pages = new Map<Lang, string>(LANGS.map((lang) => [lang, renderPage(html, lang)]));
  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    const lang = pickLang(req.cookies[LANG_COOKIE], req.headers['accept-language']);
    reply.header('vary', 'accept-language, cookie');
    reply.header('cache-control', 'no-cache');
    reply.type('text/html; charset=utf-8');
    return pages.get(lang);
  };
  const pub = { config: { access: 'public' as const } };
  app.get('/', pub, page);
  app.get('/index.html', pub, page);
}
