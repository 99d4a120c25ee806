package dev.tgpt.engine.dist;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** The FFM plumbing of the GPU libraries' bindings ({@link Nccl}, {@link CuDriver}): C functions that return a status int. */
final class Native {

    private Native() {
    }

    static Linker linker() {
        return Linker.nativeLinker();
    }

    /** The library, loaded once for the process; {@link UnavailableException} when it is not there. */
    static SymbolLookup library(String name) {
        try {
            return SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new UnavailableException(name + " cannot be loaded");
        }
    }

    static MemorySegment symbol(SymbolLookup lib, String library, String name) {
        return lib.find(name).orElseThrow(() -> new UnavailableException(library + " has no " + name));
    }

    /** A function returning a C int status. */
    static MethodHandle function(SymbolLookup lib, String library, String name, MemoryLayout... args) {
        return linker().downcallHandle(symbol(lib, library, name), FunctionDescriptor.of(JAVA_INT, args));
    }

    static Object invoke(MethodHandle f, Object... args) {
        try {
            return f.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException(t.toString(), t);
        }
    }

    /** A library, or a function of it, that this machine lacks: the caller falls back or says so in one line. */
    static final class UnavailableException extends RuntimeException {
        UnavailableException(String message) {
            super(message);
        }
    }
}
