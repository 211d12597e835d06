import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="mx-auto flex min-h-dvh max-w-xl flex-col justify-center gap-4 px-6">
      <p className="text-sm font-semibold text-sky-700">404</p>
      <h1 className="text-2xl font-bold">This page does not exist.</h1>
      <p className="text-slate-700" lang="zh-Hans">
        页面不存在。
      </p>
      <p className="flex gap-4">
        <Link href="/en" className="font-medium text-sky-700 underline">
          Lessons
        </Link>
        <Link href="/zh" className="font-medium text-sky-700 underline" lang="zh-Hans">
          课程
        </Link>
      </p>
    </main>
  );
}
