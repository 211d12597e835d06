import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiErrorBody, apiErrorCodes, apiErrorMessage, isApiErrorCode, localeFromAcceptLanguage, resolveApiLocale } from './api-errors';

const han = /\p{Script=Han}/u;
const params = { capacity: 7, detail: 'capacity: Too small', lesson: 'no-such-lab' };

test('every error code has an English and a Chinese message, and they differ', () => {
  assert.ok(apiErrorCodes.length >= 30, `only ${apiErrorCodes.length} codes`);
  for (const code of apiErrorCodes) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/, `code ${code} is not snake_case`);
    const en = apiErrorMessage(code, 'en', params);
    const zh = apiErrorMessage(code, 'zh', params);
    assert.ok(en.trim().length > 5, `${code}: empty English message`);
    assert.ok(zh.trim().length > 3, `${code}: empty Chinese message`);
    assert.ok(!han.test(en), `${code}: Chinese in the English message: ${en}`);
    assert.ok(han.test(zh), `${code}: no Chinese in the Chinese message: ${zh}`);
    assert.notEqual(en, zh, code);
    assert.ok(!/undefined|\[object/.test(en + zh), `${code}: a parameter leaked: ${en} / ${zh}`);
  }
});

test('parameters reach both languages', () => {
  assert.match(apiErrorMessage('join_full', 'en', { capacity: 3 }), /all 3 seats/);
  assert.match(apiErrorMessage('join_full', 'zh', { capacity: 3 }), /3 个名额/);
  assert.match(apiErrorMessage('lab_not_found', 'zh', { lesson: 'x-lab' }), /x-lab/);
  assert.match(apiErrorMessage('invalid_request', 'zh', { detail: 'name: too long' }), /^请求无效：name: too long$/);
  assert.equal(apiErrorMessage('join_not_found', 'zh'), '没有使用这个加入码的工作坊。请向讲师核对。');
});

test('a reply body carries the code, the message in the language, and the language', () => {
  assert.deepEqual(apiErrorBody('join_ended', 'zh'), { code: 'join_ended', error: '这个工作坊已经结束。', locale: 'zh' });
  assert.deepEqual(apiErrorBody('sign_in_failed', 'en'), { code: 'sign_in_failed', error: 'Wrong email or password', locale: 'en' });
  assert.equal(isApiErrorCode('workshop_ended'), true);
  assert.equal(isApiErrorCode('toString'), false);
  assert.equal(isApiErrorCode(42), false);
});

test('Accept-Language: the first supported language by q-value', () => {
  assert.equal(localeFromAcceptLanguage('zh-CN,zh;q=0.9,en;q=0.8'), 'zh');
  assert.equal(localeFromAcceptLanguage('en-US,en;q=0.9,zh-CN;q=0.8'), 'en');
  assert.equal(localeFromAcceptLanguage('fr-FR, zh-TW;q=0.5, en;q=0.4'), 'zh');
  assert.equal(localeFromAcceptLanguage('en;q=0.2, zh;q=0.7'), 'zh');
  assert.equal(localeFromAcceptLanguage('zh;q=0, en;q=0.1'), 'en');
  assert.equal(localeFromAcceptLanguage('de, fr'), null);
  assert.equal(localeFromAcceptLanguage('*'), null);
  assert.equal(localeFromAcceptLanguage(''), null);
  assert.equal(localeFromAcceptLanguage(null), null);
  assert.equal(localeFromAcceptLanguage('zh;q=abc, en'), 'en');
});

test('the reply language: body locale, then ?locale=, then Accept-Language, then English', () => {
  assert.equal(resolveApiLocale({ bodyLocale: 'zh', queryLocale: 'en', acceptLanguage: 'en' }), 'zh');
  assert.equal(resolveApiLocale({ bodyLocale: 'fr', queryLocale: 'zh', acceptLanguage: 'en' }), 'zh');
  assert.equal(resolveApiLocale({ bodyLocale: 42, queryLocale: null, acceptLanguage: 'zh-CN' }), 'zh');
  assert.equal(resolveApiLocale({ queryLocale: 'xx', acceptLanguage: 'de' }), 'en');
  assert.equal(resolveApiLocale({}), 'en');
});
