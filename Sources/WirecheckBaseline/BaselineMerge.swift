/// Merging two baselines, for example ones learned by two sensors on different network segments.
extension Baseline {
    /// Adds `other`'s entries to this baseline. Counts, ranges and timing sketches add up, first
    /// and last seen widen, and MACs, TTLs, units and TLS values join. Where both have an entry, this
    /// baseline's review state is kept unless only `other`'s entry is approved or has a note.
    /// Programs join their command lines, servers and users.
    /// Allow rules and maintenance windows are added when their `id` is new.
    public func merge(_ other: Baseline) {
        for (ip, theirs) in other.assets {
            guard let ours = assets[ip] else { assets[ip] = theirs.copy(); continue }
            ours.macs.formUnion(theirs.macs)
            ours.ttls.formUnion(theirs.ttls)
            ours.observation.merge(theirs.observation)
            ours.review.adopt(theirs.review)
        }
        for (key, theirs) in other.conversations {
            guard let ours = conversations[key] else { conversations[key] = theirs.copy(); continue }
            ours.flows &+= theirs.flows
            ours.flowsWithHandshake &+= theirs.flowsWithHandshake
            ours.flowsMidstream &+= theirs.flowsMidstream
            ours.packets &+= theirs.packets
            ours.bytes &+= theirs.bytes
            ours.observation.merge(theirs.observation)
            ours.review.adopt(theirs.review)
            for (kind, theirSet) in theirs.tls { ours.tls[kind, default: TLSValueSet()].merge(theirSet) }
            for (operationKey, theirOperation) in theirs.operations {
                guard let ourOperation = ours.operations[operationKey] else {
                    ours.operations[operationKey] = theirOperation.copy()
                    continue
                }
                ourOperation.observation.merge(theirOperation.observation)
                ourOperation.timing.merge(theirOperation.timing)
                ourOperation.review.adopt(theirOperation.review)
                for (unitKey, theirUnit) in theirOperation.units {
                    ourOperation.units[unitKey, default: UnitEntry(unit: unitKey)].merge(theirUnit)
                }
            }
        }
        for (key, theirs) in other.programs {
            guard let ours = programs[key] else { programs[key] = theirs.copy(); continue }
            ours.merge(theirs)
        }
        for capture in other.captures {
            if let index = captures.firstIndex(where: { $0.sha256 == capture.sha256 }) {
                captures[index].timesLearned &+= capture.timesLearned
                captures[index].packets &+= capture.packets
            } else {
                captures.append(capture)
            }
        }
        for rule in other.allowRules where !allowRules.contains(where: { $0.id == rule.id }) { allowRules.append(rule) }
        for window in other.maintenanceWindows where !maintenanceWindows.contains(where: { $0.id == window.id }) {
            maintenanceWindows.append(window)
        }
        droppedEntries &+= other.droppedEntries
        refreshRoles()
    }
}

extension Review {
    /// Takes the other review's approval or note where this one has none.
    mutating func adopt(_ other: Review) {
        if !approved && other.approved { approved = true }
        if note == nil { note = other.note }
    }
}

extension AssetEntry {
    func copy() -> AssetEntry {
        let copy = AssetEntry(ip: ip, observation: observation)
        copy.macs = macs
        copy.ttls = ttls
        copy.roles = roles
        copy.review = review
        return copy
    }
}

extension ConversationEntry {
    func copy() -> ConversationEntry {
        let copy = ConversationEntry(key: key, observation: observation)
        copy.flows = flows
        copy.flowsWithHandshake = flowsWithHandshake
        copy.flowsMidstream = flowsMidstream
        copy.packets = packets
        copy.bytes = bytes
        copy.review = review
        copy.operations = operations.mapValues { $0.copy() }
        copy.tls = tls
        return copy
    }
}

extension OperationEntry {
    func copy() -> OperationEntry {
        let copy = OperationEntry(key: key, operationClass: operationClass, observation: observation)
        copy.units = units
        copy.timing = timing
        copy.review = review
        return copy
    }
}
