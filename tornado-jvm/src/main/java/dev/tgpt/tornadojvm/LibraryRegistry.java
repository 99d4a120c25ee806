package dev.tgpt.tornadojvm;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryContext;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoLibraryProvider;

/**
 * As TornadoVM's runtime LibraryRegistry: finds the {@link TornadoLibraryProvider}s on the class path with
 * {@link ServiceLoader} (once), and caches their contexts per (library, device, execution plan) until the plan frees
 * them. The errors are TornadoVM's, word for word.
 */
public final class LibraryRegistry {

    private static volatile List<TornadoLibraryProvider> providers;

    private record ContextKey(String libraryName, TornadoXPUDevice device, long executionPlanId) {
    }

    /** A context with the provider that made it, which is the one to destroy it. */
    private record Created(TornadoLibraryProvider provider, LibraryContext context) {
    }

    private static final Map<ContextKey, Created> CONTEXTS = new ConcurrentHashMap<>();

    private LibraryRegistry() {
    }

    private static List<TornadoLibraryProvider> getProviders() {
        if (providers == null) {
            synchronized (LibraryRegistry.class) {
                if (providers == null) {
                    List<TornadoLibraryProvider> discovered = new ArrayList<>();
                    for (TornadoLibraryProvider provider : ServiceLoader.load(TornadoLibraryProvider.class, LibraryRegistry.class.getClassLoader())) {
                        discovered.add(provider);
                    }
                    providers = discovered;
                }
            }
        }
        return providers;
    }

    /** The first provider of the library that can handle the device. */
    public static TornadoLibraryProvider findProvider(String libraryName, TornadoXPUDevice device) {
        TornadoLibraryProvider match = null;
        for (TornadoLibraryProvider provider : getProviders()) {
            if (provider.libraryName().equals(libraryName)) {
                match = provider;
                if (provider.canHandle(device)) {
                    return provider;
                }
            }
        }
        if (match != null) {
            throw new TornadoRuntimeException("[ERROR] Library `" + libraryName + "` is not supported on device: " + device
                    + ". Select a compatible backend/device for this library task.");
        }
        throw new TornadoRuntimeException("[ERROR] No provider found for library `" + libraryName
                + "`. Ensure the corresponding TornadoVM library module (e.g., tornado-cublas) is on the module path.");
    }

    public static LibraryContext getOrCreateContext(TornadoLibraryProvider provider, TornadoXPUDevice device, long executionPlanId) {
        return CONTEXTS.computeIfAbsent(new ContextKey(provider.libraryName(), device, executionPlanId),
                key -> new Created(provider, provider.createContext(device, executionPlanId))).context();
    }

    /** Destroys the contexts created for this execution plan. */
    public static void destroyContexts(long executionPlanId) {
        Iterator<Map.Entry<ContextKey, Created>> iterator = CONTEXTS.entrySet().iterator();
        while (iterator.hasNext()) {
            Map.Entry<ContextKey, Created> entry = iterator.next();
            if (entry.getKey().executionPlanId() == executionPlanId) {
                entry.getValue().provider().destroyContext(entry.getValue().context());
                iterator.remove();
            }
        }
    }
}
