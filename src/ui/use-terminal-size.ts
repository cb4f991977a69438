import { useStdout } from "ink";
import { useEffect, useState } from "react";

/** The terminal's columns and rows, following resizes (80×24 when the stream does not say). */
export function useTerminalSize(): { columns: number; rows: number } {
  // ink 8 types stdout as a plain WritableStream; a terminal's is a tty.WriteStream with a size
  const stdout = useStdout().stdout as NodeJS.WritableStream & { columns?: number; rows?: number };
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => void stdout.off("resize", onResize);
  }, [stdout]);
  return size;
}
