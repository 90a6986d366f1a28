/**
 * Whether a text field has the keyboard. While one does, printable keys are text, not shortcuts:
 * `?` typed into the Hub search is a `?`, not the help overlay. Every focused TextField claims the
 * keyboard through this context, so no screen has to remember to.
 */
import { createContext, useContext, useEffect, useMemo, useRef } from 'react';

export interface TextEntry {
  /** Marks a text field as focused; returns the release. */
  claim(): () => void;
  active(): boolean;
}

export const TextEntryContext = createContext<TextEntry>({ claim: () => () => undefined, active: () => false });

/** The App's tracker: a count of focused text fields. */
export function useTextEntryTracker(): TextEntry {
  const focused = useRef(0);
  return useMemo(() => ({
    claim() {
      focused.current++;
      return () => { focused.current--; };
    },
    active: () => focused.current > 0,
  }), []);
}

export function useClaimTextEntry(focused: boolean): void {
  const entry = useContext(TextEntryContext);
  useEffect(() => (focused ? entry.claim() : undefined), [focused, entry]);
}
