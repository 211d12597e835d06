import { redirect } from 'next/navigation';

export default function Home(): never {
  redirect('/en/lessons/exercise-net-namespace');
}
