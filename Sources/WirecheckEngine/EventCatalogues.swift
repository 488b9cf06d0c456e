import WirecheckBaseline
import WirecheckCore
import WirecheckDecoding
import WirecheckDetection
import WirecheckFlows
import WirecheckProtocols

/// Every stage's catalogue, in pipeline order.
public enum EventCatalogues {
    public static let all: [EventCatalogue.Type] = [
        DecodingCatalogue.self,
        FlowCatalogue.self,
        DetectionCatalogue.self,
        ApplicationLayerCatalogue.self,
        ModbusCatalogue.self,
        DNP3Catalogue.self,
        IEC104Catalogue.self,
        BACnetCatalogue.self,
        OPCUACatalogue.self,
        ENIPCatalogue.self,
        S7Catalogue.self,
        TLSCatalogue.self,
        BaselineCatalogue.self,
    ]
}
