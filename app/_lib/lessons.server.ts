// Server entry for lessons. `server-only` is not an npm dependency here: Next aliases it to its own
// bundled copy (next/dist/compiled/server-only), which makes any client import of this file a build
// error. Tests import ./lessons directly, which has no such import.
import 'server-only';

export {
  calloutKinds,
  clearLessonCache,
  contentDir,
  getLesson,
  lessonAnswerSteps,
  lessonComponentNames,
  lessonFrontmatterSchema,
  lessonLocaleSchema,
  lessonLocales,
  lessonSlugPattern,
  lessonSlugSchema,
  lessonStepIds,
  listLessons,
  LessonNotFoundError,
  LessonSourceError,
} from './lessons';
export type {
  Lesson,
  LessonCommand,
  LessonFrontmatter,
  LessonLocale,
  LessonMeta,
  LessonOutline,
  LessonStepOutline,
} from './lessons';
