import { Text, type TextProps } from "ink";
import { createContext, useContext } from "react";

/** False under NO_COLOR (no-color.org): Ink's chalk does not read it. */
export const ColorContext = createContext(true);

/** Text in a colour, or plain when colour is off. */
export function Tone({ color, backgroundColor, ...props }: TextProps) {
  const on = useContext(ColorContext);
  return <Text {...props} color={on ? color : undefined} backgroundColor={on ? backgroundColor : undefined} />;
}
