/** The page's strings in the chosen language (public: the sign-in form needs them). */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../server.js';
import { LANGS, MESSAGES, pickLang } from '../i18n/index.js';

export const LANG_COOKIE = 'gc_lang';

export function i18nRoutes(app: FastifyInstance, _ctx: AdminContext): void {
  app.get('/api/i18n', { config: { public: true } }, async (req, reply) => {
    const lang = pickLang(req.cookies[LANG_COOKIE], req.headers['accept-language']);
    reply.header('vary', 'accept-language, cookie');
    return { lang, langs: LANGS, strings: MESSAGES[lang] };
  });
}
