// Interface text of the web app in every language the course ships. Lesson text lives in content/,
// step titles and hints in labs/; this is only the chrome around them. Pure: imported by server and
// client components alike.
import type { Locale } from '../../labs/core/model';

export const courseName = 'nslab';

const en = {
  localeName: 'English',
  switchTo: '中文',
  switchToLabel: '阅读中文版 (Chinese)',
  lessons: 'Lessons',
  lessonsIntro: 'Learn how containers really work: run real Linux namespace commands and get graded from the kernel’s own state.',
  minutes: (n: number) => `${n} min`,
  lab: 'Lab',
  skipToTerminals: 'Skip to the terminals',
  skipToLesson: 'Skip to the lesson',
  terminals: 'Terminals',
  terminalLabel: (n: number) => `Terminal ${n}`,
  terminalHelp: 'Esc then Tab leaves the terminal.',
  starting: 'Starting your sandbox…',
  reconnectingOverlay: 'Reconnecting…',
  shellExited: 'Shell exited — press Enter or click to restart',
  shellExitedDetail: (code: number | null, signal: number | null) =>
    signal !== null ? `(signal ${signal})` : code !== null ? `(exit code ${code})` : '',
  runIn: (n: number) => `Run in terminal ${n}`,
  pasteIn: (n: number) => `Paste into terminal ${n}`,
  ran: 'Sent',
  notConnected: 'Not connected to your sandbox yet.',
  checkMyWork: 'Check my work',
  checking: 'Checking…',
  progress: (passed: number, total: number) => `${passed} of ${total} steps done`,
  status: {
    pending: 'Not done yet',
    passed: 'Passed',
    failed: 'Not yet',
  },
  notSavedYet: 'Not saved yet: your progress is kept and will be stored as soon as the database answers.',
  stepLabel: 'Step',
  hint: 'Hint',
  hintOf: (i: number, n: number) => `Hint ${i} of ${n}`,
  showHint: 'Show a hint',
  nextHint: 'Show the next hint',
  answerSubmit: 'Check answer',
  answerWaiting: 'Sent — waiting for the grader…',
  unknownStep: (id: string) => `Unknown step “${id}” (not in this lab).`,
  announce: (title: string, status: 'pending' | 'passed' | 'failed', message: string | null) => {
    const verb = status === 'passed' ? 'passed' : status === 'failed' ? 'is not done yet' : 'is pending';
    return `Step ‘${title}’ ${verb}${message ? `: ${message}` : '.'}`;
  },
  connection: {
    idle: 'Not connected',
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    ended: 'Session ended',
    replaced: 'Opened in another tab',
    unavailable: 'Sandbox unavailable',
  },
  endedBanner: 'Your sandbox session ended. Your progress is kept.',
  startAgain: 'Start a new sandbox',
  replacedBanner: 'This lab is open in another tab or window.',
  useHere: 'Use it here',
  retryIn: (s: number) => `Retrying in ${s} s`,
  retryNow: 'Retry now',
  dismiss: 'Dismiss',
  callout: { note: 'Note', tip: 'Tip', warning: 'Warning', danger: 'Danger', info: 'Info' },
  outputDropped: '[some earlier output is no longer available]',
} as const;

type Strings = { [K in keyof typeof en]: (typeof en)[K] extends (...args: infer A) => string ? (...args: A) => string : (typeof en)[K] extends string ? string : { [P in keyof (typeof en)[K]]: string } };

const zh: Strings = {
  localeName: '中文',
  switchTo: 'English',
  switchToLabel: 'Read in English (英文)',
  lessons: '课程',
  lessonsIntro: '弄懂容器到底如何工作：在浏览器里运行真实的 Linux 命名空间命令，并由内核自身的状态来评分。',
  minutes: (n: number) => `${n} 分钟`,
  lab: '实验',
  skipToTerminals: '跳到终端',
  skipToLesson: '跳到课文',
  terminals: '终端',
  terminalLabel: (n: number) => `终端 ${n}`,
  terminalHelp: '先按 Esc 再按 Tab 可离开终端。',
  starting: '正在启动你的沙箱…',
  reconnectingOverlay: '正在重新连接…',
  shellExited: 'Shell 已退出 — 按回车或点击以重新启动',
  shellExitedDetail: (code: number | null, signal: number | null) =>
    signal !== null ? `(信号 ${signal})` : code !== null ? `(退出码 ${code})` : '',
  runIn: (n: number) => `在终端 ${n} 中运行`,
  pasteIn: (n: number) => `粘贴到终端 ${n}`,
  ran: '已发送',
  notConnected: '尚未连接到你的沙箱。',
  checkMyWork: '检查我的操作',
  checking: '正在检查…',
  progress: (passed: number, total: number) => `已完成 ${passed} / ${total} 步`,
  status: {
    pending: '尚未完成',
    passed: '已通过',
    failed: '还没有通过',
  },
  notSavedYet: '尚未保存：你的进度不会丢失，数据库恢复后会立即保存。',
  stepLabel: '步骤',
  hint: '提示',
  hintOf: (i: number, n: number) => `提示 ${i} / ${n}`,
  showHint: '显示提示',
  nextHint: '显示下一条提示',
  answerSubmit: '检查答案',
  answerWaiting: '已提交 — 等待评分…',
  unknownStep: (id: string) => `未知步骤“${id}”(不在本实验中)。`,
  announce: (title: string, status: 'pending' | 'passed' | 'failed', message: string | null) => {
    const verb = status === 'passed' ? '已通过' : status === 'failed' ? '尚未通过' : '等待中';
    return `步骤“${title}”${verb}${message ? `：${message}` : '。'}`;
  },
  connection: {
    idle: '未连接',
    connecting: '正在连接…',
    connected: '已连接',
    reconnecting: '正在重新连接…',
    ended: '会话已结束',
    replaced: '已在其他标签页中打开',
    unavailable: '沙箱不可用',
  },
  endedBanner: '你的沙箱会话已结束。学习进度已保留。',
  startAgain: '启动新的沙箱',
  replacedBanner: '本实验已在另一个标签页或窗口中打开。',
  useHere: '在这里使用',
  retryIn: (s: number) => `${s} 秒后重试`,
  retryNow: '立即重试',
  dismiss: '关闭',
  callout: { note: '注意', tip: '提示', warning: '警告', danger: '危险', info: '说明' },
  outputDropped: '[更早的输出已不可用]',
};

export type UiStrings = Strings;

export function uiStrings(locale: Locale): UiStrings {
  return locale === 'zh' ? zh : (en as unknown as UiStrings);
}

/** The BCP 47 tag for the lang attribute (Simplified Chinese picks the right CJK glyphs). */
export function htmlLang(locale: Locale): string {
  return locale === 'zh' ? 'zh-Hans' : 'en';
}

export function otherLocale(locale: Locale): Locale {
  return locale === 'zh' ? 'en' : 'zh';
}
