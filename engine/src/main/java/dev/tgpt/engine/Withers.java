package dev.tgpt.engine;

import java.util.function.Consumer;

/**
 * The one way options are read across tgpt: defaults in the fields, then named withers, each returning a changed
 * copy ({@code Options.defaults().batch(8).lr(3e-4f)}). A subclass's wither is {@code return with(o -> o.batch = v);}.
 */
public abstract class Withers<T extends Withers<T>> implements Cloneable {

    /** A copy of these options with {@code change} applied; these stay as they are. */
    @SuppressWarnings("unchecked")
    protected final T with(Consumer<T> change) {
        try {
            T copy = (T) clone();
            change.accept(copy);
            return copy;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }
}
