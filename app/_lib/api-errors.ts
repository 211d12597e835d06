// The app API's error replies: every JSON error a browser can get carries a stable machine `code`
// and a message (`error`) in the learner's language. Pure (no Node, no DOM): the route handlers
// build replies with it, the pages may use it to word an error themselves.
//
// Which language (the same rule on every route; see app/api/workshops/README.md, "Errors"):
//   1. an explicit `locale` the page sends: the `locale` field of a JSON body, else `?locale=`
//   2. else the request's Accept-Language (the first supported language by q-value)
//   3. else English
import type { Locale } from '../../labs/core/model';
import { workshopStrings } from './workshops-strings';

export interface ApiErrorParams {
  /** The workshop's seats (join_full). */
  capacity?: number;
  /** A detail that is data, not prose (a zod issue, an agent's message). */
  detail?: string;
  /** A lesson or lab slug. */
  lesson?: string;
  /** Seconds until a rate-limited request may be retried. */
  retryAfterS?: number;
  /** The quota that was reached. */
  limit?: number;
}

type Message = (params: ApiErrorParams) => string;

const d = (params: ApiErrorParams) => params.detail ?? '';

/** Every error code with its English and Chinese message. */
const catalog = {
  // ---- any route
  cross_origin: { en: () => 'Cross-origin requests are not allowed.', zh: () => '不允许跨站请求。' },
  unsupported_media_type: { en: () => 'Send the request body as application/json.', zh: () => '请求体必须是 application/json 格式。' },
  invalid_json: { en: () => 'The request body is not valid JSON.', zh: () => '请求体不是有效的 JSON。' },
  invalid_request: { en: (p) => `Invalid request: ${d(p)}`, zh: (p) => `请求无效：${d(p)}` },
  database_unavailable: {
    en: () => 'The database is unavailable; try again in a moment.',
    zh: () => '数据库暂时不可用，请稍后再试。',
  },
  misconfigured: { en: () => 'The app is misconfigured (see the server log).', zh: () => '应用配置有误（请查看服务器日志）。' },
  // ---- instructors
  sign_in_invalid: { en: () => 'Enter your email and password.', zh: () => '请输入邮箱和密码。' },
  sign_in_failed: { en: () => 'Wrong email or password', zh: () => '邮箱或密码错误' },
  sign_in_rate_limited: {
    en: () => 'Too many sign-in attempts; wait a few minutes.',
    zh: () => '登录尝试次数过多，请等几分钟再试。',
  },
  sign_in_required: {
    en: () => 'Sign in as an instructor first (your session ended or was signed out).',
    zh: () => '请先以讲师身份登录（你的登录已过期或已被退出）。',
  },
  not_workshop_instructor: {
    en: () => 'Only the instructors of this workshop may do this.',
    zh: () => '只有这个工作坊的讲师才能执行此操作。',
  },
  workshop_not_found: { en: () => 'No such workshop.', zh: () => '没有这个工作坊。' },
  unknown_lesson: { en: (p) => `There is no lesson "${p.lesson ?? ''}".`, zh: (p) => `没有名为“${p.lesson ?? ''}”的课程。` },
  workshop_already_ended: {
    en: () => 'This workshop has ended and cannot be extended or reopened. Create a new workshop instead.',
    zh: () => '这个工作坊已经结束，不能再延长或重新开放。请新建一个工作坊。',
  },
  end_sessions_failed: {
    en: (p) => `The workshop is ended, but its sandboxes could not be stopped: ${d(p)}`,
    zh: (p) => `工作坊已结束，但它的沙箱未能关闭：${d(p)}`,
  },
  messages_forbidden: {
    en: () => 'Only the members and instructors of this workshop may read its messages.',
    zh: () => '只有这个工作坊的学员和讲师才能阅读它的消息。',
  },
  lab_not_in_workshop: { en: () => 'This lab is not part of the workshop.', zh: () => '这个实验不属于该工作坊。' },
  learner_not_member: { en: () => 'This learner is not a member of the workshop.', zh: () => '这位学员不是该工作坊的成员。' },
  no_running_session: {
    en: () => 'This learner has no running sandbox for this lab right now.',
    zh: () => '这位学员目前没有运行中的该实验沙箱。',
  },
  viewer_unavailable: {
    en: (p) => `The terminal view is not available right now: ${d(p)}`,
    zh: (p) => `目前无法打开终端视图：${d(p)}`,
  },
  export_bad_format: { en: () => 'format must be csv or json.', zh: () => 'format 只能是 csv 或 json。' },
  // ---- learners: joining
  join_not_found: { en: () => workshopStrings('en').joinNotFound, zh: () => workshopStrings('zh').joinNotFound },
  join_full: { en: (p) => workshopStrings('en').joinFull(p.capacity ?? 0), zh: (p) => workshopStrings('zh').joinFull(p.capacity ?? 0) },
  join_rate_limited: {
    en: () => 'Too many wrong workshop codes from here; wait a few minutes and check the code with your instructor.',
    zh: () => '从这里输入错误的工作坊代码次数过多，请等几分钟，并向讲师核对代码。',
  },
  join_ended: { en: () => workshopStrings('en').joinEnded, zh: () => workshopStrings('zh').joinEnded },
  name_invalid: {
    en: () => 'Your name must be 1 to 40 characters long, without control characters.',
    zh: () => '名字必须是 1 到 40 个字符，且不能包含控制字符。',
  },
  // ---- learners: lab sessions
  lab_not_found: { en: (p) => `Unknown lab "${p.lesson ?? ''}".`, zh: (p) => `没有名为“${p.lesson ?? ''}”的实验。` },
  workshop_ended: {
    en: () => 'Your workshop has ended, so its lessons are closed. Everything you passed is kept in your completion records.',
    zh: () => '你的工作坊已经结束，它的课程已关闭。你通过的所有步骤都保留在你的完成记录中。',
  },
  agent_busy: {
    en: () => 'All sandboxes are in use right now; trying again shortly.',
    zh: () => '目前所有沙箱都在使用中，稍后会自动重试。',
  },
  sandbox_rate_limited: {
    en: (p) => `Too many new sandboxes from here; try again in ${p.retryAfterS ?? 60} ${p.retryAfterS === 1 ? 'second' : 'seconds'}.`,
    zh: (p) => `从这里新建的沙箱太多了，请在 ${p.retryAfterS ?? 60} 秒后再试。`,
  },
  learner_sandbox_limit: {
    en: (p) => `You already have ${p.limit ?? 0} sandboxes running (the most one learner may have). Close a lesson you no longer use, or wait until an idle sandbox ends.`,
    zh: (p) => `你已经有 ${p.limit ?? 0} 个沙箱在运行（每位学员的上限）。请关闭不再使用的课程，或等待空闲的沙箱自动结束。`,
  },
  client_sandbox_limit: {
    en: (p) => `Too many sandboxes are running from your network address (${p.limit ?? 0}). Try again later, or join your class's workshop with its code.`,
    zh: (p) => `来自你的网络地址的沙箱太多（${p.limit ?? 0} 个）。请稍后再试，或用课程代码加入你所在班级的工作坊。`,
  },
  workshop_required: {
    en: () => 'On this site, labs are open to workshop members only: join your workshop with its code first.',
    zh: () => '本站的实验只对工作坊成员开放：请先用课程代码加入你的工作坊。',
  },
  agent_unreachable: {
    en: () => 'The sandbox service is not reachable; trying again shortly.',
    zh: () => '无法连接沙箱服务，稍后会自动重试。',
  },
  agent_refused: {
    en: (p) => `The sandbox service refused to start your sandbox: ${d(p)}`,
    zh: (p) => `沙箱服务拒绝启动你的沙箱：${d(p)}`,
  },
  // ---- learners: identity
  no_progress_yet: { en: () => 'This browser has no progress yet: open a lesson first.', zh: () => '这个浏览器上还没有任何进度：请先打开一节课程。' },
  resume_invalid: {
    en: () => 'This resume link is not valid (a newer one may have replaced it).',
    zh: () => '这个恢复链接无效（可能已被更新的链接取代）。',
  },
  resume_rate_limited: { en: () => 'Too many attempts; wait a few minutes.', zh: () => '尝试次数过多，请等几分钟再试。' },
} satisfies Record<string, Record<Locale, Message>>;

export type ApiErrorCode = keyof typeof catalog;

export const apiErrorCodes = Object.keys(catalog) as ApiErrorCode[];

export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && Object.hasOwn(catalog, value);
}

/** The message of an error code in a language. */
export function apiErrorMessage(code: ApiErrorCode, locale: Locale, params: ApiErrorParams = {}): string {
  return catalog[code][locale](params);
}

/** What every JSON error reply looks like (routes may add fields, e.g. join_full's capacity). */
export interface ApiErrorBody {
  code: ApiErrorCode;
  /** The message in `locale`. */
  error: string;
  locale: Locale;
}

export function apiErrorBody(code: ApiErrorCode, locale: Locale, params: ApiErrorParams = {}): ApiErrorBody {
  return { code, error: apiErrorMessage(code, locale, params), locale };
}

function asLocale(value: unknown): Locale | null {
  return value === 'en' || value === 'zh' ? value : null;
}

/** The first supported language of an Accept-Language header by q-value ("zh-CN,zh;q=0.9" -> zh), or null. */
export function localeFromAcceptLanguage(header: string | null | undefined): Locale | null {
  if (!header) return null;
  const ranked = header
    .slice(0, 500)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      // A malformed q-value ("q=abc") makes NaN: that entry is ignored.
      const q = params.map((p) => /^\s*q\s*=(.*)$/.exec(p)?.[1]).find((v) => v !== undefined);
      const weight = q === undefined ? 1 : /^\s*[0-9.]+\s*$/.test(q) ? Number(q) : Number.NaN;
      return { primary: tag.trim().toLowerCase().split('-')[0] ?? '', q: weight, index };
    })
    .filter((entry) => Number.isFinite(entry.q) && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const entry of ranked) {
    const locale = asLocale(entry.primary);
    if (locale) return locale;
  }
  return null;
}

/** The reply language: explicit body `locale`, else `?locale=`, else Accept-Language, else en. */
export function resolveApiLocale(sources: { bodyLocale?: unknown; queryLocale?: string | null; acceptLanguage?: string | null }): Locale {
  return asLocale(sources.bodyLocale) ?? asLocale(sources.queryLocale) ?? localeFromAcceptLanguage(sources.acceptLanguage) ?? 'en';
}
