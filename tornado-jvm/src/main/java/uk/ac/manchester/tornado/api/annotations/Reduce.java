package uk.ac.manchester.tornado.api.annotations;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Marks a reduction variable. tgpt writes its reductions with KernelContext instead (see README, "Design"). */
@Target({ ElementType.PARAMETER, ElementType.LOCAL_VARIABLE, ElementType.FIELD })
@Retention(RetentionPolicy.RUNTIME)
public @interface Reduce {
}
