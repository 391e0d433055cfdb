/** No certificate collection has this id: there is no list to serve. */
export class StatusListNotFoundError extends Error {
  override name = "StatusListNotFoundError";
}
